//! Automigrate's part in the collections API (the file writing is kiln-hooks').

/// With automigrate on, writes the migration file of a change made through the API (a failure
/// is logged: the change itself is made).
pub(super) async fn changed(
    app: &kiln_core::App,
    auto: Option<axum::Extension<std::sync::Arc<kiln_hooks::migrate::Automigrate>>>,
    old: Option<&kiln_core::schema::collection::Collection>,
    new: Option<&kiln_core::schema::collection::Collection>,
) {
    if let Some(axum::Extension(a)) = auto {
        if let Err(e) = a.changed(app, old, new).await {
            tracing::error!(error = %e, "automigrate: cannot write the migration file");
        }
    }
}
