//! The tower layer that authenticates and authorizes every CRM method before its handler.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::Gate;

/// Authenticates calls with `verifier` and checks each method's permission (see the module
/// documentation). Paths that are not CRM methods (health, reflection) pass untouched.
///
/// Without a gate the layer passes every call untouched (a service not yet under access
/// control).
#[derive(Debug, Clone)]
pub struct AuthLayer {
    gate: Option<Gate>,
}

impl AuthLayer {
    /// The layer for `gate`.
    pub fn new(gate: Option<Gate>) -> AuthLayer {
        AuthLayer { gate }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;
    fn layer(&self, inner: S) -> AuthService<S> {
        AuthService {
            inner,
            gate: self.gate.clone(),
        }
    }
}

/// The service [`AuthLayer`] makes.
#[derive(Debug, Clone)]
pub struct AuthService<S> {
    inner: S,
    gate: Option<Gate>,
}

/// The bearer token of a request's `authorization` header.
pub fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl<S, B, RB> tower::Service<http::Request<B>> for AuthService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
    RB: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let Some(access) = crm_proto::method_access(req.uri().path()) else {
            return Box::pin(self.inner.call(req));
        };
        let verifier: Arc<super::Verifier> = match &self.gate {
            None => return Box::pin(self.inner.call(req)),
            Some(Gate::Verify(v)) => v.clone(),
            #[cfg(feature = "testing")]
            Some(Gate::Trust(principal)) => {
                req.extensions_mut().insert(principal.clone());
                return Box::pin(self.inner.call(req));
            }
        };
        // The service that was polled ready serves this call; a fresh clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let principal = match verifier.authorize(access, req.headers()).await {
                Ok(Some(p)) => p,
                Ok(None) => return inner.call(req).await,
                Err(status) => return Ok(status.into_http()),
            };
            tracing::Span::current().record("enduser.id", principal.employee_id.as_str());
            req.extensions_mut().insert(principal);
            inner.call(req).await
        })
    }
}
