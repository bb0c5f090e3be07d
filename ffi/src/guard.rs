//! The boundary: every exported function's body runs through [`call`], which catches panics
//! and turns the outcome into a status code plus an optional error object.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{Failure, strata_error, strata_status};

/// Runs `body`, catching any panic, and reports the outcome through `err`.
///
/// If `err` is non-NULL, `*err` is set to NULL on success and to a new error object on failure
/// (a previous value is overwritten, not freed).
///
/// # Safety
/// `err` is NULL or valid for one pointer write.
pub(crate) unsafe fn call(
    err: *mut *mut strata_error,
    body: impl FnOnce() -> Result<(), Failure>,
) -> strata_status {
    let outcome = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(outcome) => outcome,
        Err(payload) => Err(panic_failure(payload)),
    };
    let (status, error) = match outcome {
        Ok(()) => (strata_status::STRATA_OK, std::ptr::null_mut()),
        Err(f) => {
            let code = f.code;
            // Building the error object allocates; a panic here (it cannot happen short of
            // an allocation failure, which aborts) must not unwind either.
            let error = catch_unwind(AssertUnwindSafe(|| Box::into_raw(Box::new(f.into_error()))))
                .unwrap_or(std::ptr::null_mut());
            (code, error)
        }
    };
    if !err.is_null() {
        // SAFETY: `err` is non-NULL and, per this function's contract, valid for a write.
        unsafe { err.write(error) };
    } else if !error.is_null() {
        // SAFETY: `error` came from Box::into_raw just above and was handed to no one.
        drop(unsafe { Box::from_raw(error) });
    }
    status
}

fn panic_failure(payload: Box<dyn Any + Send>) -> Failure {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string payload".to_owned());
    // Dropping a payload can itself panic (a payload whose Drop panics); never let it out.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
    Failure::new(
        strata_status::STRATA_ERR_PANIC,
        format!("internal panic (a bug in Strata, please report it): {what}"),
    )
}

/// Frees a boxed handle that was handed out with `Box::into_raw` and nulls the caller's
/// pointer. NULL, or a pointer to NULL, is a no-op. A panic in a destructor is swallowed
/// (there is no status to report it through).
///
/// # Safety
/// `handle` is NULL or points to NULL or to a pointer obtained from `Box::<T>::into_raw` by
/// this library and not yet freed.
pub(crate) unsafe fn free_handle<T>(handle: *mut *mut T) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if handle.is_null() {
            return;
        }
        // SAFETY: `handle` is non-NULL and points to a readable, writable pointer (contract).
        let raw = unsafe { handle.replace(std::ptr::null_mut()) };
        if !raw.is_null() {
            // SAFETY: `raw` came from Box::into_raw and is freed exactly once: the caller's
            // copy was nulled above.
            drop(unsafe { Box::from_raw(raw) });
        }
    }));
}

/// Writes `value` to an out-parameter, which must not be NULL.
///
/// # Safety
/// `out` is NULL or valid for a write of `T`.
pub(crate) unsafe fn write_out<T>(out: *mut T, what: &str, value: T) -> Result<(), Failure> {
    if out.is_null() {
        return Err(Failure::null(what));
    }
    if !out.is_aligned() {
        return Err(Failure::invalid(format!("{what} is misaligned")));
    }
    // SAFETY: non-NULL, aligned, and valid for writes per the caller's contract.
    unsafe { out.write(value) };
    Ok(())
}

/// Checks an out-parameter before any work is done, so a NULL one fails early.
pub(crate) fn check_out<T>(out: *mut T, what: &str) -> Result<(), Failure> {
    if out.is_null() {
        Err(Failure::null(what))
    } else if !out.is_aligned() {
        Err(Failure::invalid(format!("{what} is misaligned")))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{strata_error_code, strata_error_free, strata_error_message};
    use std::ffi::CStr;

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let mut err: *mut strata_error = std::ptr::null_mut();
        // SAFETY: `err` is a valid local pointer.
        let status = unsafe { call(&mut err, || panic!("boom {}", 42)) };
        assert_eq!(status, strata_status::STRATA_ERR_PANIC);
        // SAFETY: `err` was just set by `call` to a live error object.
        unsafe {
            assert_eq!(strata_error_code(err), strata_status::STRATA_ERR_PANIC);
            let msg = CStr::from_ptr(strata_error_message(err)).to_str().unwrap();
            assert!(msg.contains("boom 42"), "{msg}");
            strata_error_free(&mut err);
        }
        assert!(err.is_null());
        // SAFETY: freeing a NULL handle and a NULL pointer are no-ops.
        unsafe {
            strata_error_free(&mut err);
            strata_error_free(std::ptr::null_mut());
        }
    }

    #[test]
    fn success_clears_the_error_slot_and_null_err_is_fine() {
        let mut err: *mut strata_error = std::ptr::null_mut();
        // SAFETY: valid local pointer; then NULL, which `call` accepts.
        unsafe {
            assert_eq!(call(&mut err, || Ok(())), strata_status::STRATA_OK);
            assert!(err.is_null());
            assert_eq!(
                call(std::ptr::null_mut(), || Err(Failure::invalid("x"))),
                strata_status::STRATA_ERR_INVALID_ARGUMENT
            );
        }
    }
}
