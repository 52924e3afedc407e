//! [`rpcs!`](crate::rpcs): a service's generated tonic trait implemented by handing each RPC to
//! the inherent method of the same name, so no service writes the delegating code by hand.
//!
//! ```ignore
//! crm_kit::rpcs! {
//!     impl SalesService for SalesApi;
//!     // fn(&self, request) -> Result<response>: no caller needed (the method checks what it must).
//!     public: [ capture_lead(pb::CaptureLeadRequest) -> pb::CaptureLeadResponse; ]
//!     // fn(&self, &Principal, request) -> Result<response>; a client stream is
//!     // `tonic::Streaming<Request>`.
//!     signed_in: [ create_lead(pb::CreateLeadRequest) -> pb::CreateLeadResponse; ]
//!     // fn(&self, &Principal, request) -> Result<mpsc::Receiver<Result<response, Status>>>,
//!     // served as the stream type named after `as`.
//!     server_streaming: [ export_leads(pb::ExportLeadsRequest) -> pb::ExportLeadsResponse as ExportLeadsStream; ]
//! }
//! ```

/// Implements a service trait by delegation; see the [module](crate::rpcs).
#[macro_export]
macro_rules! rpcs {
    (
        impl $service:ident for $api:ty;
        public: [$($pname:ident($preq:ty) -> $presp:ty;)*]
        signed_in: [$($name:ident($req:ty) -> $resp:ty;)*]
        server_streaming: [$($sname:ident($sreq:ty) -> $sresp:ty as $stream:ident;)*]
    ) => {
        #[tonic::async_trait]
        impl $service for $api {
            $(
                async fn $pname(
                    &self,
                    request: tonic::Request<$preq>,
                ) -> std::result::Result<tonic::Response<$presp>, tonic::Status> {
                    Ok(tonic::Response::new(<$api>::$pname(self, request.into_inner()).await?))
                }
            )*
            $(
                async fn $name(
                    &self,
                    request: tonic::Request<$req>,
                ) -> std::result::Result<tonic::Response<$resp>, tonic::Status> {
                    let caller = $crate::auth::Principal::of(&request)?;
                    Ok(tonic::Response::new(<$api>::$name(self, &caller, request.into_inner()).await?))
                }
            )*
            $(
                type $stream = tokio_stream::wrappers::ReceiverStream<std::result::Result<$sresp, tonic::Status>>;

                async fn $sname(
                    &self,
                    request: tonic::Request<$sreq>,
                ) -> std::result::Result<tonic::Response<Self::$stream>, tonic::Status> {
                    let caller = $crate::auth::Principal::of(&request)?;
                    let rx = <$api>::$sname(self, &caller, request.into_inner()).await?;
                    Ok(tonic::Response::new(tokio_stream::wrappers::ReceiverStream::new(rx)))
                }
            )*
        }
    };
}
