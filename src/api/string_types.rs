//! JSON string fields that refuse numbers and booleans: poem-openapi's
//! `String` quietly accepts `5` as `"5"`, which would turn a client's wrong
//! type into a job instead of a 400. [`QueueName`] also checks the name.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;

/// A string that must be a JSON string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrictString(pub String);

/// `Type` of a newtype over `String` whose schema is `$schema`.
macro_rules! string_type {
    ($ty:ty, $schema:expr) => {
        impl Type for $ty {
            const IS_REQUIRED: bool = true;
            type RawValueType = String;
            type RawElementValueType = String;

            fn name() -> Cow<'static, str> {
                "string".into()
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Inline(Box::new($schema))
            }

            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(&self.0)
            }

            fn raw_element_iter<'a>(
                &'a self,
            ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
                Box::new(std::iter::once(&self.0))
            }
        }

        impl ToJSON for $ty {
            fn to_json(&self) -> Option<Value> {
                Some(Value::String(self.0.clone()))
            }
        }
    };
}

string_type!(StrictString, MetaSchema::new("string"));

impl ParseFromJSON for StrictString {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(s)) => Ok(StrictString(s)),
            Some(other) => Err(ParseError::expected_type(other)),
            None => Err(ParseError::expected_input()),
        }
    }
}

/// A job's `kind`: a JSON string, required, whose absence is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskKind(pub String);

string_type!(TaskKind, MetaSchema::new("string"));

impl ParseFromJSON for TaskKind {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(s)) => Ok(TaskKind(s)),
            None | Some(Value::Null) => Err(ParseError::custom(
                "kind is required: the name of the task to run, e.g. \"demo.process_item\"",
            )),
            Some(other) => Err(ParseError::custom(format!(
                "kind must be a string, found {other}"
            ))),
        }
    }
}

/// The pattern of a queue name, as the spec states it (checked by
/// [`crate::job::is_valid_queue_name`], without a regex per request).
pub const QUEUE_NAME_PATTERN: &str = "^[A-Za-z0-9_.:-]{1,128}$";

/// A queue name: a JSON string of 1 to 128 letters, digits, `_ . : -`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueName(pub String);

string_type!(
    QueueName,
    MetaSchema {
        pattern: Some(QUEUE_NAME_PATTERN.into()),
        ..MetaSchema::new("string")
    }
);

impl ParseFromJSON for QueueName {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(s)) if crate::job::is_valid_queue_name(&s) => Ok(QueueName(s)),
            Some(Value::String(s)) => Err(ParseError::custom(format!(
                "queue {s:?} is not a queue name: 1 to 128 letters, digits, '_', '.', ':' or '-'"
            ))),
            Some(other) => Err(ParseError::expected_type(other)),
            None => Err(ParseError::expected_input()),
        }
    }
}
