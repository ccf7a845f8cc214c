//! What the derive emits when the input has errors: the errors, plus a minimal `Job`
//! impl so every use of the type (`register::<T>()`, `enqueue(t)`) still type-checks
//! and the user sees only the errors that matter (thiserror's `fallback.rs`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{DeriveInput, Path, parse_quote};

pub(crate) fn expand(node: &DeriveInput, krate: &Path, errors: &syn::Error) -> TokenStream {
    let private = quote!(#krate::__private);
    let ident = &node.ident;
    let name = ident.to_string();
    let (impl_generics, ty_generics, _) = node.generics.split_for_impl();
    let mut generics = node.generics.clone();
    // The bounds of `Job`'s supertraits, written on the impl so that a type which meets
    // them only partly (a union without serde, a generic type) adds no error of its
    // own. Under `for<..>` because a bound on a concrete type that does not hold is an
    // error (rust-lang/rust#48214), while a higher-ranked one is left for use sites.
    generics.make_where_clause().predicates.push(parse_quote! {
        for<'__job_fallback> #ident #ty_generics: #private::Serialize
            + #private::DeserializeOwned
            + ::core::marker::Send
            + ::core::marker::Sync
            + 'static
    });
    let where_clause = &generics.where_clause;
    let errors = errors.to_compile_error();
    quote! {
        #errors
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #private::Job for #ident #ty_generics #where_clause {
                const NAME: &'static str = #name;
            }
        };
    }
}
