//! Strata's engine: the `Db` a server embeds (being written), and the query layer.

pub mod query;
