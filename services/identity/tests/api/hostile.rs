//! Hostile input: undecodable messages and control characters are INVALID_ARGUMENT.

use crm_proto::identity as pb;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::helpers::{ADMIN_PASSWORD, spawn};

/// Sends and receives message bodies as raw bytes, so a test can send what no generated client
/// would: truncated messages, invalid UTF-8 in a `string`.
#[derive(Debug, Clone, Default)]
struct RawCodec;

#[derive(Debug, Clone, Default)]
struct RawEncoder;

#[derive(Debug, Clone, Default)]
struct RawDecoder;

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl tonic::codec::Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = Status;
    fn encode(&mut self, item: Vec<u8>, buf: &mut tonic::codec::EncodeBuf<'_>) -> Result<(), Status> {
        bytes::BufMut::put_slice(buf, &item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawDecoder {
    type Item = Vec<u8>;
    type Error = Status;
    fn decode(&mut self, buf: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let n = bytes::Buf::remaining(buf);
        Ok(Some(bytes::Buf::copy_to_bytes(buf, n).to_vec()))
    }
}

/// Calls `path` with `body` as the request message, bytes as they are.
async fn raw_call(channel: Channel, path: &'static str, body: Vec<u8>) -> Result<Vec<u8>, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.map_err(|e| Status::unavailable(e.to_string()))?;
    grpc.unary(
        tonic::Request::new(body),
        tonic::codegen::http::uri::PathAndQuery::from_static(path),
        RawCodec,
    )
    .await
    .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn undecodable_requests_are_invalid_argument_not_internal() {
    let app = spawn().await;
    const SIGN_IN: &str = "/crm.identity.v1.IdentityService/SignIn";
    // Field 1 (login), length 2, bytes that are not UTF-8.
    let bad_utf8 = vec![0x0a, 0x02, 0xff, 0xfe, 0x12, 0x01, b'x'];
    // Field 1 says 10 bytes follow; 2 do.
    let truncated = vec![0x0a, 0x0a, b'a', b'b'];
    // Wire type 7 does not exist.
    let bad_wire_type = vec![0x0f];
    for (what, body) in [
        ("bad UTF-8", bad_utf8),
        ("truncated", truncated),
        ("wire type", bad_wire_type),
    ] {
        let status = raw_call(app.channel.clone(), SIGN_IN, body).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{what}: {status:?}");
    }
    // The same bytes, well formed, reach the handler (bad credentials, not a decode error).
    let good = pb::SignInRequest {
        login: "admin".into(),
        password: "wrong-password".into(),
    };
    let status = raw_call(app.channel.clone(), SIGN_IN, prost::Message::encode_to_vec(&good))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
}

#[tokio::test]
async fn control_characters_in_a_login_are_invalid_argument_on_every_database() {
    let app = spawn().await;
    for login in ["ad\0min", "admin\u{1b}", "ad\u{85}min"] {
        let status = app.sign_in(login, ADMIN_PASSWORD).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{login:?}: {status:?}");
        let bad = status.get_details_bad_request().expect("BadRequest details");
        assert!(bad.field_violations.iter().any(|v| v.field == "login"), "{bad:?}");
    }
    let status = app.sign_in(&"a".repeat(10_000), ADMIN_PASSWORD).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    app.sign_in("admin", ADMIN_PASSWORD)
        .await
        .expect("the administrator still signs in");

    let mut admin = app.admin().await.client;
    let status = admin
        .list_employees(pb::ListEmployeesRequest {
            query: "a\0".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let status = admin
        .list_employees(pb::ListEmployeesRequest {
            query: "x".repeat(3000),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
}
