//! The services behind the gateway: one lazily connected channel per service, and a codec that
//! moves encoded messages without knowing their types (the gateway encodes and decodes them
//! through reflection).

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes};
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::{Channel, Endpoint};

/// Passes encoded messages through untouched.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawCodec;

/// The encoder of [`RawCodec`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RawEncoder;

/// The decoder of [`RawCodec`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RawDecoder;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl Encoder for RawEncoder {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// The channel of every service the gateway routes to, by short name (`customers`).
#[derive(Debug, Clone)]
pub struct Upstreams {
    channels: BTreeMap<String, (String, Channel)>,
}

impl Upstreams {
    /// Channels to `urls` (name → `http://host:port`); connections open on first use and
    /// reconnect by themselves.
    pub fn new(urls: &BTreeMap<String, String>) -> crm_kit::Result<Upstreams> {
        let mut channels = BTreeMap::new();
        for (name, url) in urls {
            let endpoint = Endpoint::from_shared(url.clone())
                .map_err(|e| crm_kit::Error::Internal(format!("upstream {name}: bad URL {url}: {e}")))?
                .connect_timeout(Duration::from_secs(5))
                .tcp_nodelay(true)
                .http2_keep_alive_interval(Duration::from_secs(30))
                .keep_alive_while_idle(true);
            channels.insert(name.clone(), (url.clone(), endpoint.connect_lazy()));
        }
        Ok(Upstreams { channels })
    }

    /// The channel of `service`.
    pub fn channel(&self, service: &str) -> Option<Channel> {
        self.channels.get(service).map(|(_, c)| c.clone())
    }

    /// Every upstream: name, URL, channel.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &Channel)> {
        self.channels.iter().map(|(n, (u, c))| (n.as_str(), u.as_str(), c))
    }
}

/// A generic client over `channel` for encoded messages.
pub fn client(channel: Channel) -> tonic::client::Grpc<Channel> {
    tonic::client::Grpc::new(channel)
        .max_decoding_message_size(64 * 1024 * 1024)
        .max_encoding_message_size(64 * 1024 * 1024)
}

/// `service` unreachable, as a status.
pub fn unreachable(service: &str, err: impl std::fmt::Display) -> Status {
    tracing::warn!(service, error = %err, "upstream unreachable");
    Status::unavailable(format!("the {service} service is unreachable; retry"))
}
