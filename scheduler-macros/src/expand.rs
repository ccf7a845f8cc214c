//! The derive's driver and the code it generates.
//!
//! Generated code names everything by absolute path through the runtime crate's
//! `__private` module, so it depends on nothing the user imported, and sits in
//! `const _: () = { ... };` so it adds no name to the user's module.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::{
    ast::Input,
    ctxt::Ctxt,
    fallback,
    valid::{self, Job, PayloadShape, UniqueKey},
};

/// Parse, validate, then generate; on any error, every error plus a stand-in impl.
pub(crate) fn derive(node: &DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let input = Input::from_syn(&cx, node);
    let job = valid::check(&cx, &input);
    match cx.check() {
        Ok(()) => impl_job(&job),
        Err(errors) => fallback::expand(node, &job.krate, &errors),
    }
}

fn impl_job(job: &Job<'_>) -> TokenStream {
    let krate = &job.krate;
    let private = quote!(#krate::__private);
    let ident = job.ident;
    let where_clause = job.where_clause;
    let name = &job.name;
    // Only what the attributes ask for is overridden; the trait's defaults do the rest.
    let options = options(job, &private);
    let unique_key = unique_key(job, &private);
    let default_schedule = job.cron.as_ref().map(|expr| {
        quote! {
            fn default_schedule() -> #private::Option<#private::ScheduleSpec> {
                #private::Option::Some(#private::ScheduleSpec::cron(#expr))
            }
        }
    });
    let payload_shape = job.payload.as_ref().map(|shape| {
        let value = match shape {
            PayloadShape::Null => quote!(#private::PayloadShape::Null),
            PayloadShape::Array(len) => quote!(#private::PayloadShape::array(#len)),
            PayloadShape::Object(fields) => {
                let names = fields.iter().map(|(n, _)| n);
                let required = fields.iter().map(|(_, r)| r);
                quote!(#private::PayloadShape::object(&[#((#names, #required)),*]))
            }
        };
        quote! {
            fn payload_shape() -> #private::Option<#private::PayloadShape> {
                #private::Option::Some(#value)
            }
        }
    });
    let required_state = (!job.state.is_empty()).then(|| {
        let types = &job.state;
        quote! {
            fn required_state() -> #private::Vec<#private::StateType> {
                #private::vec![#(#private::StateType::of::<#types>()),*]
            }
        }
    });
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #private::Job for #ident #where_clause {
                const NAME: &'static str = #name;
                #options
                #unique_key
                #default_schedule
                #required_state
                #payload_shape
            }
        };
    }
}

fn options(job: &Job<'_>, private: &TokenStream) -> Option<TokenStream> {
    let mut calls = Vec::new();
    if let Some(p) = job.priority {
        calls.push(quote!(.priority(#p)));
    }
    if let Some(n) = job.max_attempts {
        calls.push(quote!(.max_attempts(#n)));
    }
    if let Some(ms) = job.timeout_ms {
        calls.push(quote!(.timeout(#private::Duration::from_millis(#ms))));
    }
    if let Some(ms) = job.backoff_ms {
        calls.push(quote!(.backoff(#private::Duration::from_millis(#ms))));
    }
    if let Some(q) = &job.queue {
        calls.push(quote!(.queue(#q)));
    }
    if calls.is_empty() {
        return None;
    }
    Some(quote! {
        fn options() -> #private::JobOptions {
            #private::JobOptions::new() #(#calls)*
        }
    })
}

fn unique_key(job: &Job<'_>, private: &TokenStream) -> Option<TokenStream> {
    let parts = match &job.unique {
        UniqueKey::None => return None,
        UniqueKey::Payload => vec![quote!(#private::json(self))],
        UniqueKey::Fields(members) => members
            .iter()
            .map(|m| quote!(#private::json(&self.#m)))
            .collect(),
    };
    Some(quote! {
        fn unique_key(&self) -> #private::Option<#private::String> {
            #private::Option::Some(#private::unique_key(
                <Self as #private::Job>::NAME,
                &[#(#parts),*],
            ))
        }
    })
}
