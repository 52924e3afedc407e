//! The CRM's contracts, generated from `proto/` at build time.
//!
//! One module per protobuf package (`crm::customers::v1`, ...), plus [`FILE_DESCRIPTOR_SET`], the
//! encoded descriptors of every contract, which the services serve over reflection and the
//! gateway reads to transcode REST.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

pub mod codec;

/// Encoded `google.protobuf.FileDescriptorSet` of every file in `proto/`.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/crm_descriptor.bin"));

/// Who may call one gRPC method, from its `(crm.common.v1.access)` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodAccess {
    /// `/package.Service/Method`.
    pub path: &'static str,
    /// The permission needed; empty: any signed-in employee.
    pub permission: &'static str,
    /// Callable without signing in.
    pub public: bool,
}

include!(concat!(env!("OUT_DIR"), "/crm_access.rs"));
include!(concat!(env!("OUT_DIR"), "/crm_event_names.rs"));

/// The access rule of a gRPC path; `None` for paths that are not CRM methods (health,
/// reflection).
pub fn method_access(path: &str) -> Option<&'static MethodAccess> {
    METHOD_ACCESS
        .binary_search_by(|m| m.path.cmp(path))
        .ok()
        .map(|i| &METHOD_ACCESS[i])
}

pub mod google {
    pub mod api {
        include!(concat!(env!("OUT_DIR"), "/google.api.rs"));
    }
    pub mod rpc {
        include!(concat!(env!("OUT_DIR"), "/google.rpc.rs"));
    }
}

pub mod crm {
    pub mod common {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/crm.common.v1.rs"));
        }
    }
    pub mod customers {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/crm.customers.v1.rs"));
        }
    }
    pub mod events {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/crm.events.v1.rs"));
        }
    }
    pub mod sales {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/crm.sales.v1.rs"));
        }
    }
    pub mod warehouse {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/crm.warehouse.v1.rs"));
        }
    }
    pub mod identity {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/crm.identity.v1.rs"));
        }
    }
}

pub use crm::common::v1 as common;
pub use crm::customers::v1 as customers;
pub use crm::events::v1 as events;
pub use crm::identity::v1 as identity;
pub use crm::sales::v1 as sales;
pub use crm::warehouse::v1 as warehouse;
