//! Who the other employees are: the identity service, asked on the caller's behalf (their own
//! token is forwarded), when a record goes to someone other than the caller.

use std::time::Duration;

use crate::auth::Principal;
use crate::{Error, Result};
use crm_proto::identity as id;
use crm_proto::identity::identity_service_client::IdentityServiceClient;
use tonic::Code;
use tonic::transport::Channel;

/// A client of the identity service's employee directory.
#[derive(Debug, Clone)]
pub struct Directory {
    channel: Channel,
}

impl Directory {
    /// A directory at `url` (connected lazily).
    pub fn new(url: &str) -> Result<Directory> {
        let channel = tonic::transport::Endpoint::from_shared(url.to_string())
            .map_err(|e| Error::Internal(format!("identity address {url:?}: {e}")))?
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(5))
            .connect_lazy();
        Ok(Directory { channel })
    }

    /// The department path of the active employee `employee_id` (named by request field
    /// `field`), asked with the caller's token. The caller's own comes from their token.
    pub async fn department_of(&self, caller: &Principal, field: &str, employee_id: &str) -> Result<String> {
        if employee_id == caller.employee_id {
            return Ok(caller.department_path.clone());
        }
        let request = caller.forward(id::GetEmployeeRequest {
            id: employee_id.to_string(),
        })?;
        let found = IdentityServiceClient::new(self.channel.clone())
            .get_employee(request)
            .await;
        match found {
            Ok(r) => {
                let e = r.into_inner().employee.unwrap_or_default();
                if e.status != id::EmployeeStatus::Active as i32 {
                    return Err(Error::invalid(
                        field,
                        "INACTIVE_EMPLOYEE",
                        format!("{employee_id} is deactivated"),
                    ));
                }
                Ok(e.department_path)
            }
            Err(s) if s.code() == Code::NotFound => Err(Error::invalid(
                field,
                "UNKNOWN_EMPLOYEE",
                format!("{employee_id} is not an employee"),
            )),
            Err(s) if s.code() == Code::PermissionDenied => Err(Error::PermissionDenied {
                permission: "identity.employee.read".into(),
            }),
            Err(s) => {
                tracing::warn!(code = ?s.code(), message = %s.message(), "identity directory call failed");
                Err(Error::Unavailable(
                    "the employee directory is unavailable; retry".into(),
                ))
            }
        }
    }

    /// The path of department `department_id` (named by request field `field`), asked with the
    /// caller's token.
    pub async fn department_path(&self, caller: &Principal, field: &str, department_id: &str) -> Result<String> {
        let request = caller.forward(id::ListDepartmentsRequest {})?;
        let listed = IdentityServiceClient::new(self.channel.clone())
            .list_departments(request)
            .await;
        match listed {
            Ok(r) => r
                .into_inner()
                .departments
                .into_iter()
                .find(|d| d.id == department_id)
                .map(|d| d.path)
                .ok_or_else(|| {
                    Error::invalid(
                        field,
                        "UNKNOWN_DEPARTMENT",
                        format!("{department_id} is not a department"),
                    )
                }),
            Err(s) if s.code() == Code::PermissionDenied => Err(Error::PermissionDenied {
                permission: "identity.department.read".into(),
            }),
            Err(s) => {
                tracing::warn!(code = ?s.code(), message = %s.message(), "identity directory call failed");
                Err(Error::Unavailable(
                    "the employee directory is unavailable; retry".into(),
                ))
            }
        }
    }
}
