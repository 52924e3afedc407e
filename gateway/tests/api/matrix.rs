//! The authorization matrix: every RPC in the descriptor set, called without a token and with a
//! token lacking its permission, directly over gRPC, through the gateway's gRPC-Web and through
//! every REST route it has.

use bytes::Bytes;
use crm_gateway::routes::Routes;
use crm_gateway::upstream::RawCodec;
use http::Method;
use prost_reflect::{DescriptorPool, MethodDescriptor};
use tonic::Code;
use tonic::transport::Channel;

use crate::helpers::{Reply, start};

/// Calls `path` on `url` with one empty message and the token; the status code.
async fn grpc_code(url: &str, method: &MethodDescriptor, path: &str, token: Option<&str>) -> Code {
    let channel = Channel::from_shared(url.to_string())
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("ready");
    let path: http::uri::PathAndQuery = path.parse().expect("path");
    fn with<T>(mut req: tonic::Request<T>, token: Option<&str>) -> tonic::Request<T> {
        if let Some(t) = token {
            req.metadata_mut()
                .insert("authorization", format!("Bearer {t}").parse().expect("ascii"));
        }
        req
    }
    let result = match (method.is_client_streaming(), method.is_server_streaming()) {
        (false, false) => grpc
            .unary(with(tonic::Request::new(Bytes::new()), token), path, RawCodec)
            .await
            .map(|_| ()),
        (true, false) => grpc
            .client_streaming(
                with(tonic::Request::new(tokio_stream::iter(vec![Bytes::new()])), token),
                path,
                RawCodec,
            )
            .await
            .map(|_| ()),
        (false, true) => match grpc
            .server_streaming(with(tonic::Request::new(Bytes::new()), token), path, RawCodec)
            .await
        {
            Ok(response) => response.into_inner().message().await.map(|_| ()),
            Err(status) => Err(status),
        },
        (true, true) => panic!("{path}: bidirectional methods are not in the matrix yet"),
    };
    match result {
        Ok(()) => Code::Ok,
        Err(status) => status.code(),
    }
}

/// The REST request for a route with every path variable filled.
fn rest_path(template: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in template.chars() {
        match c {
            '{' => {
                inside = true;
                out.push_str("x1");
            }
            '}' => inside = false,
            _ if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

fn assert_refusal(reply: &Reply, http: u16, status: &str, what: &str) {
    assert_eq!(reply.status, http, "{what}: {}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.json()["error"]["status"], status, "{what}");
}

#[tokio::test]
async fn every_rpc_refuses_missing_tokens_and_missing_permissions_over_grpc_grpc_web_and_rest() {
    let system = start().await;
    let pool = DescriptorPool::decode(crm_proto::FILE_DESCRIPTOR_SET).expect("descriptors");
    let routes = Routes::from_pool(&pool).expect("routes");
    // A signed-in employee holding no permission at all.
    let powerless = system.identity.token_holding("nobody", &[]);
    let mut methods = 0;
    let mut rest_routes = 0;
    for service in pool.services().filter(|s| s.full_name().starts_with("crm.")) {
        let url = match service.package_name() {
            "crm.identity.v1" => system.identity.url(),
            "crm.customers.v1" => system.customers.endpoint(),
            "crm.sales.v1" => system.sales.endpoint(),
            "crm.warehouse.v1" => system.warehouse.endpoint(),
            // Served by every service that publishes events or owns records to hand over.
            "crm.events.v1" => system.customers.endpoint(),
            other => panic!("{other} has no server in this test; add it to the matrix"),
        };
        for method in service.methods() {
            let path = format!("/{}/{}", service.full_name(), method.name());
            let access = crm_proto::method_access(&path).expect("every method has an access rule");
            // Service-to-service methods are not reachable through the gateway at all.
            if crm_gateway::is_internal(&path) {
                let reply = system.http.grpc_web(&path, Some(&powerless), &[]).await;
                assert_eq!(reply.code, Code::Unimplemented as i32, "gRPC-Web {path}: {reply:?}");
                assert!(reply.message.contains("internal"), "{reply:?}");
                if !access.public {
                    assert_eq!(
                        grpc_code(&url, &method, &path, None).await,
                        Code::Unauthenticated,
                        "gRPC {path} without a token"
                    );
                }
                if !access.permission.is_empty() {
                    assert_eq!(
                        grpc_code(&url, &method, &path, Some(&powerless)).await,
                        Code::PermissionDenied,
                        "gRPC {path} without {}",
                        access.permission
                    );
                }
                continue;
            }

            if access.public {
                // Sign-in and friends answer without a token, but never as an authentication
                // failure of the transport: each reaches its handler.
                let code = grpc_code(&url, &method, &path, None).await;
                assert_ne!(code, Code::PermissionDenied, "{path}");
                continue;
            }
            methods += 1;

            // Directly over gRPC.
            assert_eq!(
                grpc_code(&url, &method, &path, None).await,
                Code::Unauthenticated,
                "gRPC {path} without a token"
            );
            assert_eq!(
                grpc_code(&url, &method, &path, Some("not-a-token")).await,
                Code::Unauthenticated,
                "gRPC {path} with a malformed token"
            );

            // Through the gateway as gRPC-Web.
            let reply = system.http.grpc_web(&path, None, &[]).await;
            assert_eq!(reply.code, Code::Unauthenticated as i32, "gRPC-Web {path}: {reply:?}");

            if !access.permission.is_empty() {
                assert_eq!(
                    grpc_code(&url, &method, &path, Some(&powerless)).await,
                    Code::PermissionDenied,
                    "gRPC {path} without {}",
                    access.permission
                );
                let reply = system.http.grpc_web(&path, Some(&powerless), &[]).await;
                assert_eq!(reply.code, Code::PermissionDenied as i32, "gRPC-Web {path}: {reply:?}");
                assert!(reply.message.contains(access.permission), "{reply:?}");
            }

            // Through every REST route of the method.
            for route in routes.all().filter(|r| r.grpc_path == path) {
                rest_routes += 1;
                let url = rest_path(&route.template.openapi_path());
                let body: &[u8] = if route.body.is_some() { b"{}" } else { b"" };
                let what = format!("{} {url}", route.http_method);
                let reply = system
                    .http
                    .send(
                        route.http_method.clone(),
                        &url,
                        None,
                        &[("content-type", "application/json")],
                        body.to_vec(),
                    )
                    .await;
                assert_refusal(&reply, 401, "UNAUTHENTICATED", &what);
                if !access.permission.is_empty() {
                    let reply = system
                        .http
                        .send(
                            route.http_method.clone(),
                            &url,
                            Some(&powerless),
                            &[("content-type", "application/json")],
                            body.to_vec(),
                        )
                        .await;
                    assert_refusal(&reply, 403, "PERMISSION_DENIED", &what);
                    let info = reply.detail("ErrorInfo");
                    assert_eq!(info["metadata"]["permission"], access.permission, "{what}");
                }
            }
        }
    }
    // The matrix really walked the contracts.
    assert!(methods >= 50, "only {methods} protected methods walked");
    assert!(rest_routes >= 45, "only {rest_routes} REST routes walked");
    println!("authorization matrix: {methods} protected methods over gRPC and gRPC-Web, {rest_routes} REST routes");

    // A route that does not exist is 404, a method a path does not support is 405.
    let reply = system.http.get("/v1/nothing-here", None).await;
    assert_eq!(reply.status, 404);
    let reply = system
        .http
        .send(Method::PUT, "/v1/customers/x1", None, &[], Bytes::new())
        .await;
    assert_eq!(reply.status, 405);
    assert!(reply.header("allow").is_some_and(|a| a.contains("GET")), "{reply:?}");
}
