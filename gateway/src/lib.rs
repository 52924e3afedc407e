//! The gateway: REST/JSON and gRPC-Web in front of the services.
//!
//! Empty for now: the identity and gateway work fills it. The suite does not start it yet.
