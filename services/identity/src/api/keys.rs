//! The key set and revocations other services verify tokens with, signing-key rotation, and
//! service tokens.

use crm_kit::Result;
use crm_kit::auth::Principal;
use crm_kit::auth::token;
use crm_kit::time::{now_micros, set_to_proto};
use crm_proto::identity as pb;

use super::IdentityApi;
use crate::domain::credentials::PASSWORD_RESET;
use crate::store;

impl IdentityApi {
    /// GetKeySet: the current key and the retired ones still kept.
    pub(super) async fn get_key_set(&self, _req: pb::GetKeySetRequest) -> Result<pb::GetKeySetResponse> {
        let mut conn = self.conn().await?;
        let keys = store::signing_keys(&mut conn, now_micros() - crate::keys::RETIRED_KEPT_MICROS).await?;
        Ok(pb::GetKeySetResponse {
            keys: keys
                .into_iter()
                .map(|k| pb::SigningKey {
                    kid: k.kid,
                    algorithm: token::ALGORITHM.into(),
                    public_key: k.public_key,
                    create_time: set_to_proto(k.created_at),
                    retire_time: set_to_proto(k.retired_at),
                })
                .collect(),
            issuer: crm_kit::auth::ISSUER.into(),
            audience: crm_kit::auth::AUDIENCE.into(),
        })
    }

    /// ListRevocations: employees whose tokens issued before a time are refused, and why.
    pub(super) async fn list_revocations(
        &self,
        _req: pb::ListRevocationsRequest,
    ) -> Result<pb::ListRevocationsResponse> {
        let mut conn = self.conn().await?;
        let revocations = crate::keys::revocations(&mut conn).await?;
        Ok(pb::ListRevocationsResponse {
            revocations: revocations
                .into_iter()
                .map(|r| pb::Revocation {
                    employee_id: r.employee_id,
                    revoke_time: Some(prost_types::Timestamp {
                        seconds: r.before,
                        nanos: 0,
                    }),
                    reason: if r.deactivated {
                        crm_kit::auth::DEACTIVATED.into()
                    } else {
                        PASSWORD_RESET.into()
                    },
                })
                .collect(),
        })
    }

    /// RotateSigningKey: a new key signs from now on; the old one still verifies.
    pub(super) async fn rotate_signing_key(
        &self,
        caller: &Principal,
        _req: pb::RotateSigningKeyRequest,
    ) -> Result<pb::RotateSigningKeyResponse> {
        let key = token::generate_key();
        let row = crate::keys::row_of(&key, now_micros());
        let mut tx = self.db.begin_write().await?;
        store::install_key(&mut tx, &row).await?;
        tx.commit().await?;
        if let Some(verifier) = &self.verifier {
            verifier.prefetch().await;
        }
        tracing::info!(kid = %row.kid, by = %caller.employee_id, "signing key rotated");
        Ok(pb::RotateSigningKeyResponse {
            key: Some(pb::SigningKey {
                kid: row.kid,
                algorithm: token::ALGORITHM.into(),
                public_key: row.public_key,
                create_time: set_to_proto(row.created_at),
                retire_time: None,
            }),
        })
    }

    /// IssueServiceToken: a token for a service presenting the shared service secret.
    pub(super) async fn issue_service_token(
        &self,
        req: pb::IssueServiceTokenRequest,
    ) -> Result<pb::IssueServiceTokenResponse> {
        let mut conn = self.conn().await?;
        crate::handover::issue_service_token(&mut conn, &self.service_secret, &req).await
    }
}
