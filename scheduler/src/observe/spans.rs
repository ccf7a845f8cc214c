//! The `tracing` span of one attempt (feature `tracing`): `runloom.attempt` with the
//! run id, job type and attempt number, entered on the worker thread for the whole of
//! `perform`, so whatever the job logs or traces is attributed to its run.

/// Enters the attempt's span until the guard drops; nothing without the feature.
#[cfg(feature = "tracing")]
pub(crate) fn attempt_span(run: crate::model::RunId, job_type: &str, attempt: u32) -> impl Drop {
    // With no tracing subscriber the span carries nothing to anyone, but with tracing's
    // `log` feature (which axum's default `tower-log` turns on) it would become one
    // `log` record at info per attempt: the per-run line the `log` output keeps at
    // debug.
    if tracing::dispatcher::get_default(|d| d.is::<tracing::subscriber::NoSubscriber>()) {
        return tracing::Span::none().entered();
    }
    tracing::info_span!(
        "runloom.attempt",
        run_id = run.get(),
        job_type = job_type,
        attempt = attempt
    )
    .entered()
}

/// Without the feature there is no span: the guard is nothing.
#[cfg(not(feature = "tracing"))]
#[derive(Debug)]
pub(crate) struct NoSpan;

/// Enters the attempt's span until the guard drops; nothing without the feature.
#[cfg(not(feature = "tracing"))]
pub(crate) fn attempt_span(_run: crate::model::RunId, _job_type: &str, _attempt: u32) -> NoSpan {
    NoSpan
}
