//! The derive input as this crate sees it: the type's `#[job]` attributes and, for a
//! struct, its fields by name. Everything keeps a reference to the user's tokens so
//! errors can point at them (thiserror's `ast.rs` does the same).

use syn::{Data, DeriveInput, Fields, Index, Member, ext::IdentExt};

use crate::{
    attr::{self, Attrs},
    ctxt::Ctxt,
};

/// A type that derives `Job`.
pub(crate) struct Input<'a> {
    pub(crate) original: &'a DeriveInput,
    pub(crate) attrs: Attrs,
    pub(crate) shape: Shape<'a>,
}

/// What kind of type it is; only a struct can be a job.
pub(crate) enum Shape<'a> {
    /// Named, tuple or unit struct (the last has no fields).
    Struct(Vec<Field>),
    /// Refused; kept to point the error at the `enum` keyword.
    Enum(&'a syn::token::Enum),
    /// Refused; kept to point the error at the `union` keyword.
    Union(&'a syn::token::Union),
}

/// A struct field, as `unique = "..."` names it.
pub(crate) struct Field {
    /// How generated code reaches it: `self.to` or `self.0`.
    pub(crate) member: Member,
    /// How the user names it in `unique`: `to` (even for `r#to`) or `0`.
    pub(crate) name: String,
}

impl<'a> Input<'a> {
    pub(crate) fn from_syn(cx: &Ctxt, node: &'a DeriveInput) -> Self {
        let attrs = Attrs::from_syn(cx, &node.attrs);
        let shape = match &node.data {
            Data::Struct(data) => {
                refuse_inner_attrs(cx, data.fields.iter().flat_map(|f| &f.attrs), "a field");
                Shape::Struct(fields(&data.fields))
            }
            Data::Enum(data) => {
                for v in &data.variants {
                    refuse_inner_attrs(cx, &v.attrs, "a variant");
                    refuse_inner_attrs(cx, v.fields.iter().flat_map(|f| &f.attrs), "a field");
                }
                Shape::Enum(&data.enum_token)
            }
            Data::Union(data) => {
                refuse_inner_attrs(
                    cx,
                    data.fields.named.iter().flat_map(|f| &f.attrs),
                    "a field",
                );
                Shape::Union(&data.union_token)
            }
        };
        Input {
            original: node,
            attrs,
            shape,
        }
    }
}

fn fields(fields: &Fields) -> Vec<Field> {
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| match &f.ident {
            Some(ident) => Field {
                member: Member::Named(ident.clone()),
                name: ident.unraw().to_string(),
            },
            None => Field {
                member: Member::Unnamed(Index::from(i)),
                name: i.to_string(),
            },
        })
        .collect()
}

/// `#[job]` is declared for the derive, so the compiler accepts it anywhere inside the
/// type: refuse it where it would otherwise be silently ignored.
fn refuse_inner_attrs<'b>(
    cx: &Ctxt,
    attrs: impl IntoIterator<Item = &'b syn::Attribute>,
    on: &str,
) {
    for a in attrs {
        if a.path().is_ident(attr::JOB) {
            cx.error_spanned_by(a, format!("#[job] goes on the struct itself, not on {on}"));
        }
    }
}
