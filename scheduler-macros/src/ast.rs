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
    /// The struct has `#[serde(...)]` attributes of its own.
    pub(crate) serde_attrs: bool,
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
    /// Its type is `Option<..>`: serde's derive lets the field be missing.
    pub(crate) optional: bool,
    /// It has `#[serde(...)]` attributes (renamed, defaulted, flattened ...): what its
    /// JSON looks like is then serde's to say, not ours.
    pub(crate) serde_attrs: bool,
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
            serde_attrs: has_serde(&node.attrs),
        }
    }
}

fn fields(fields: &Fields) -> Vec<Field> {
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let (member, name) = match &f.ident {
                Some(ident) => (Member::Named(ident.clone()), ident.unraw().to_string()),
                None => (Member::Unnamed(Index::from(i)), i.to_string()),
            };
            Field {
                member,
                name,
                optional: is_option(&f.ty),
                serde_attrs: has_serde(&f.attrs),
            }
        })
        .collect()
}

fn has_serde(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("serde"))
}

/// `Option<T>` by its last path segment (`Option`, `std::option::Option`), as serde's
/// derive decides that a missing field is `None`.
fn is_option(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => {
            p.path.segments.last().is_some_and(|s| s.ident == "Option")
        }
        _ => false,
    }
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
