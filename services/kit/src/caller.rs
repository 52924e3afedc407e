//! Who is calling. Every handler takes the caller from the request's extensions, where the
//! server's interceptor put it.
//!
//! Until the identity service exists, the interceptor fills in one fixed system caller (an
//! administrator). For development and tests only, `CRM_DEV_CALLER_HEADERS=true` lets a client
//! name the caller in `x-crm-dev-employee` (employee id) and `x-crm-dev-roles` (comma-separated,
//! `manager` gives manager rights). That switch goes away with verified tokens.

use tonic::{Request, Status};

/// Employee id of the built-in system caller.
pub const SYSTEM_EMPLOYEE: &str = "system";

/// The employee on whose behalf a call runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Employee id.
    pub employee_id: String,
    /// May assign customers to others and act on everyone's records.
    pub is_manager: bool,
}

impl Caller {
    /// The fixed system caller.
    pub fn system() -> Self {
        Caller {
            employee_id: SYSTEM_EMPLOYEE.into(),
            is_manager: true,
        }
    }

    /// The caller of a request.
    pub fn of<T>(request: &Request<T>) -> Result<Caller, Status> {
        request
            .extensions()
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Status::unauthenticated("authentication is required"))
    }
}

/// The interceptor that puts a [`Caller`] into every request.
#[derive(Debug, Clone, Copy)]
pub struct CallerInterceptor {
    /// Trust the development headers (tests and local development only).
    pub dev_headers: bool,
}

impl tonic::service::Interceptor for CallerInterceptor {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let caller = if self.dev_headers {
            match request
                .metadata()
                .get("x-crm-dev-employee")
                .and_then(|v| v.to_str().ok())
            {
                Some(id) if !id.trim().is_empty() => {
                    let roles = request
                        .metadata()
                        .get("x-crm-dev-roles")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    Caller {
                        employee_id: id.trim().to_string(),
                        is_manager: roles.split(',').any(|r| r.trim() == "manager"),
                    }
                }
                _ => Caller::system(),
            }
        } else {
            Caller::system()
        };
        request.extensions_mut().insert(caller);
        Ok(request)
    }
}
