//! The CRM's contracts, generated from `proto/` at build time.
//!
//! One module per protobuf package (`crm::customers::v1`, ...), plus [`FILE_DESCRIPTOR_SET`], the
//! encoded descriptors of every contract, which the services serve over reflection and the
//! gateway reads to transcode REST.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

/// Encoded `google.protobuf.FileDescriptorSet` of every file in `proto/`.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/crm_descriptor.bin"));

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
}

pub use crm::common::v1 as common;
pub use crm::customers::v1 as customers;
