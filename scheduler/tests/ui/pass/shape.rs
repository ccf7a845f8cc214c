//! The payload shape the derive states: for plain structs only (a `#[serde]` attribute
//! anywhere, or a newtype, leaves it to serde and states none).
#![deny(warnings)]

use runloom::{Job, PayloadShape};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
struct Unit;

#[derive(Serialize, Deserialize, Job)]
struct Named {
    to: String,
    cc: Option<String>,
    r#type: u8,
}

#[derive(Serialize, Deserialize, Job)]
struct Pair(u32, String);

#[derive(Serialize, Deserialize, Job)]
struct Newtype(u64);

#[derive(Serialize, Deserialize, Job)]
#[serde(rename_all = "camelCase")]
struct Renamed {
    user_id: u64,
}

#[derive(Serialize, Deserialize, Job)]
struct Defaulted {
    #[serde(default)]
    n: u32,
}

fn main() {
    assert_eq!(<Unit as Job>::payload_shape(), Some(PayloadShape::Null));
    assert_eq!(
        <Named as Job>::payload_shape(),
        Some(PayloadShape::object(&[("to", true), ("cc", false), ("type", true)]))
    );
    assert_eq!(<Pair as Job>::payload_shape(), Some(PayloadShape::array(2)));
    assert_eq!(<Newtype as Job>::payload_shape(), None);
    assert_eq!(<Renamed as Job>::payload_shape(), None);
    assert_eq!(<Defaulted as Job>::payload_shape(), None);
}
