//! The route a request matched, carried to the response for the request log layer to record
//! its metrics on. axum knows the pattern only inside the router ([`MatchedPath`] in the
//! request), and the metrics are recorded outside it; this layer, around each route, puts the
//! route's metrics (made once per route and method) into the response's extensions.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{MatchedPath, Request};
use axum::response::Response;
use tower::{Layer, Service};

use super::handles::{RouteMetrics, RouteSlots};

/// The metrics of the route that answered (`/api/collections/{collection}/records/{id}`).
#[derive(Clone)]
pub(crate) struct MatchedRoute(pub(crate) Arc<RouteMetrics>);

/// Wraps each route (`Router::route_layer`) to put its [`MatchedRoute`] on the response.
#[derive(Clone, Copy, Default)]
pub(crate) struct RouteLabelLayer;

impl<S> Layer<S> for RouteLabelLayer {
    type Service = RouteLabel<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RouteLabel {
            inner,
            slots: Arc::default(),
        }
    }
}

#[derive(Clone)]
pub(crate) struct RouteLabel<S> {
    inner: S,
    slots: Arc<RouteSlots>,
}

impl<S> Service<Request> for RouteLabel<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = LabelFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map(|p| MatchedRoute(self.slots.get(p.as_str(), req.method())));
        LabelFuture {
            inner: self.inner.call(req),
            route,
        }
    }
}

pin_project_lite::pin_project! {
    pub(crate) struct LabelFuture<F> {
        #[pin]
        inner: F,
        route: Option<MatchedRoute>,
    }
}

impl<F, E> Future for LabelFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut res = match this.inner.poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(r) => r?,
        };
        if let Some(route) = this.route.take() {
            res.extensions_mut().insert(route);
        }
        Poll::Ready(Ok(res))
    }
}
