//! What a job type's payload looks like as JSON, as far as its derive can tell, so that
//! a tool enqueueing by name (the CLI) refuses before anything is written a payload the
//! job would refuse to decode.

use serde_json::Value;

/// The JSON a job type's payload must have: `#[derive(Job)]` states it for a plain
/// struct (no `#[serde]` attribute anywhere on it; a newtype struct states none), and
/// [`crate::Job::payload_shape`] can state it by hand. Each scheduler records its
/// types' shapes at start; [`crate::Admin::enqueue_json`] checks payloads against them.
///
/// ```
/// use runloom::PayloadShape;
/// use runloom::serde_json::json;
///
/// let shape = PayloadShape::object(&[("to", true), ("cc", false)]);
/// assert!(shape.check(&json!({ "to": "ann@example.com" })).is_ok());
/// assert!(shape.check(&json!({ "cc": "bob@example.com" })).is_err()); // no `to`
/// assert!(shape.check(&json!(["ann@example.com"])).is_err()); // not an object
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadShape {
    /// `null` (a unit struct).
    Null,
    /// An array of exactly `len` items (a tuple struct).
    Array {
        /// How many.
        len: usize,
    },
    /// An object holding at least the required fields (unknown ones are ignored, as
    /// serde's derive does).
    Object {
        /// Each field's name and whether it must be present.
        fields: Vec<(String, bool)>,
    },
}

impl PayloadShape {
    /// An object with these `(name, required)` fields.
    #[must_use]
    pub fn object(fields: &[(&str, bool)]) -> Self {
        PayloadShape::Object {
            fields: fields.iter().map(|(n, r)| ((*n).to_owned(), *r)).collect(),
        }
    }

    /// An array of `len` items.
    #[must_use]
    pub fn array(len: usize) -> Self {
        PayloadShape::Array { len }
    }

    /// `Ok` when `payload` has this shape; else what is wrong with it.
    ///
    /// # Errors
    /// The first difference, in words (`missing field "to"`, `expected an object`).
    pub fn check(&self, payload: &Value) -> Result<(), String> {
        match (self, payload) {
            (PayloadShape::Null, Value::Null) => Ok(()),
            (PayloadShape::Null, other) => Err(format!("expected null, got {}", kind(other))),
            (PayloadShape::Array { len }, Value::Array(items)) if items.len() == *len => Ok(()),
            (PayloadShape::Array { len }, Value::Array(items)) => Err(format!(
                "expected an array of {len} items, got {}",
                items.len()
            )),
            (PayloadShape::Array { len }, other) => Err(format!(
                "expected an array of {len} items, got {}",
                kind(other)
            )),
            (PayloadShape::Object { fields }, Value::Object(map)) => {
                match fields
                    .iter()
                    .find(|(n, required)| *required && !map.contains_key(n))
                {
                    Some((name, _)) => Err(format!("missing field {name:?}")),
                    None => Ok(()),
                }
            }
            (PayloadShape::Object { .. }, other) => {
                Err(format!("expected an object, got {}", kind(other)))
            }
        }
    }

    /// As recorded in the database.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            PayloadShape::Null => serde_json::json!({ "kind": "null" }),
            PayloadShape::Array { len } => serde_json::json!({ "kind": "array", "len": len }),
            PayloadShape::Object { fields } => serde_json::json!({
                "kind": "object",
                "fields": fields
                    .iter()
                    .map(|(n, r)| serde_json::json!({ "name": n, "required": r }))
                    .collect::<Vec<_>>(),
            }),
        }
    }

    /// From the database; `None` for a record this binary cannot read (a newer one's),
    /// which then checks nothing.
    pub(crate) fn from_json(v: &Value) -> Option<Self> {
        match v.get("kind")?.as_str()? {
            "null" => Some(PayloadShape::Null),
            "array" => Some(PayloadShape::Array {
                len: usize::try_from(v.get("len")?.as_u64()?).ok()?,
            }),
            "object" => Some(PayloadShape::Object {
                fields: v
                    .get("fields")?
                    .as_array()?
                    .iter()
                    .map(|f| {
                        Some((
                            f.get("name")?.as_str()?.to_owned(),
                            f.get("required")?.as_bool()?,
                        ))
                    })
                    .collect::<Option<Vec<_>>>()?,
            }),
            _ => None,
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn shapes_round_trip_through_their_record_and_check_what_serde_would_refuse() {
        for shape in [
            PayloadShape::Null,
            PayloadShape::array(2),
            PayloadShape::object(&[("a", true), ("b", false)]),
        ] {
            assert_eq!(PayloadShape::from_json(&shape.to_json()), Some(shape));
        }
        let o = PayloadShape::object(&[("a", true), ("b", false)]);
        assert!(o.check(&json!({"a": 1, "zzz": 2})).is_ok());
        assert_eq!(o.check(&json!({"b": 1})), Err("missing field \"a\"".into()));
        assert_eq!(
            o.check(&json!(7)),
            Err("expected an object, got a number".into())
        );
        assert!(PayloadShape::array(2).check(&json!([1, 2])).is_ok());
        assert!(PayloadShape::array(2).check(&json!([1])).is_err());
        assert!(PayloadShape::Null.check(&json!(null)).is_ok());
        assert!(PayloadShape::Null.check(&json!({})).is_err());
        assert_eq!(PayloadShape::from_json(&json!({"kind": "tomorrow"})), None);
    }
}
