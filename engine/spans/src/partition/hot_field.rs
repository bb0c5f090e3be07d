//! Attribute keys stored as references to a GenAI column: when every value of a key in a row
//! group equals one of its rows' GenAI fields, the cold columns keep only which field.

use crate::genai::GenAi;
use crate::model::AttrValue;

/// Attribute value types (`types` column) 5 and up: every value of the key equals a GenAI
/// column of its row, which supplies it on read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HotField {
    InputTokens = 5,
    OutputTokens = 6,
    CacheReadTokens = 7,
    RequestModel = 8,
    ResponseModel = 9,
    Provider = 10,
    Operation = 11,
    AgentName = 12,
    ToolName = 13,
    ErrorType = 14,
}

impl HotField {
    /// Every field, in the order the writer tries them.
    pub(super) const ALL: [HotField; 10] = [
        HotField::InputTokens,
        HotField::OutputTokens,
        HotField::CacheReadTokens,
        HotField::RequestModel,
        HotField::ResponseModel,
        HotField::Provider,
        HotField::Operation,
        HotField::AgentName,
        HotField::ToolName,
        HotField::ErrorType,
    ];

    /// The field whose value type (in the `types` column) is `t`, if any.
    pub(super) fn from_type(t: u64) -> Option<HotField> {
        HotField::ALL.into_iter().find(|h| *h as u64 == t)
    }

    /// The value this field gives a row, borrowed (`None` when the row has none).
    fn get(self, g: &GenAi) -> Option<HotValue<'_>> {
        let int = |v: Option<u64>| v.and_then(|v| i64::try_from(v).ok()).map(HotValue::Int);
        fn text(s: &str) -> Option<HotValue<'_>> {
            (!s.is_empty()).then_some(HotValue::Str(s))
        }
        match self {
            HotField::InputTokens => int(g.input_tokens),
            HotField::OutputTokens => int(g.output_tokens),
            HotField::CacheReadTokens => int(g.cache_read_tokens),
            HotField::RequestModel => text(&g.request_model),
            HotField::ResponseModel => text(&g.response_model),
            HotField::Provider => text(&g.provider),
            HotField::Operation => text(&g.operation),
            HotField::AgentName => text(&g.agent_name),
            HotField::ToolName => text(&g.tool_name),
            HotField::ErrorType => text(&g.error_type),
        }
    }

    /// The attribute value this field gives a row (`None` when the row has none).
    pub(super) fn value(self, g: &GenAi) -> Option<AttrValue> {
        self.get(g).map(|v| match v {
            HotValue::Int(i) => AttrValue::Int(i),
            HotValue::Str(s) => AttrValue::Str(s.to_owned()),
        })
    }

    /// Whether attribute value `v` is what this field gives the row (no allocation: the
    /// writer asks this of every value of every key).
    pub(super) fn gives(self, g: &GenAi, v: &AttrValue) -> bool {
        match (self.get(g), v) {
            (Some(HotValue::Int(i)), AttrValue::Int(x)) => i == *x,
            (Some(HotValue::Str(s)), AttrValue::Str(x)) => s == x,
            _ => false,
        }
    }
}

/// A [`HotField`]'s value for a row, borrowed from its GenAI columns.
#[derive(Debug, Clone, Copy)]
enum HotValue<'a> {
    Int(i64),
    Str(&'a str),
}
