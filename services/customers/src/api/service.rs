//! The generated `CustomersService` trait, each RPC handed to its module with the caller
//! taken from the request's extensions.

use crm_kit::auth::Principal;
use crm_proto::customers as pb;
use crm_proto::customers::customers_service_server::CustomersService;
use tonic::{Request, Response, Status};

use super::CustomersApi;

#[tonic::async_trait]
impl CustomersService for CustomersApi {
    async fn create_customer(
        &self,
        request: Request<pb::CreateCustomerRequest>,
    ) -> Result<Response<pb::CreateCustomerResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.create_customer(&caller, request.into_inner()).await?,
        ))
    }

    async fn get_customer(
        &self,
        request: Request<pb::GetCustomerRequest>,
    ) -> Result<Response<pb::GetCustomerResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(self.get_customer(&caller, request.into_inner()).await?))
    }

    async fn list_customers(
        &self,
        request: Request<pb::ListCustomersRequest>,
    ) -> Result<Response<pb::ListCustomersResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(self.list_customers(&caller, request.into_inner()).await?))
    }

    async fn update_customer(
        &self,
        request: Request<pb::UpdateCustomerRequest>,
    ) -> Result<Response<pb::UpdateCustomerResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.update_customer(&caller, request.into_inner()).await?,
        ))
    }

    async fn delete_customer(
        &self,
        request: Request<pb::DeleteCustomerRequest>,
    ) -> Result<Response<pb::DeleteCustomerResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.delete_customer(&caller, request.into_inner()).await?,
        ))
    }

    async fn check_duplicates(
        &self,
        request: Request<pb::CheckDuplicatesRequest>,
    ) -> Result<Response<pb::CheckDuplicatesResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.check_duplicates(&caller, request.into_inner()).await?,
        ))
    }

    async fn merge_customers(
        &self,
        request: Request<pb::MergeCustomersRequest>,
    ) -> Result<Response<pb::MergeCustomersResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.merge_customers(&caller, request.into_inner()).await?,
        ))
    }

    async fn assign_customer(
        &self,
        request: Request<pb::AssignCustomerRequest>,
    ) -> Result<Response<pb::AssignCustomerResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.assign_customer(&caller, request.into_inner()).await?,
        ))
    }

    async fn transfer_customer(
        &self,
        request: Request<pb::TransferCustomerRequest>,
    ) -> Result<Response<pb::TransferCustomerResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.transfer_customer(&caller, request.into_inner()).await?,
        ))
    }

    async fn release_customer(
        &self,
        request: Request<pb::ReleaseCustomerRequest>,
    ) -> Result<Response<pb::ReleaseCustomerResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.release_customer(&caller, request.into_inner()).await?,
        ))
    }

    async fn claim_customer(
        &self,
        request: Request<pb::ClaimCustomerRequest>,
    ) -> Result<Response<pb::ClaimCustomerResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(self.claim_customer(&caller, request.into_inner()).await?))
    }

    async fn share_customer(
        &self,
        request: Request<pb::ShareCustomerRequest>,
    ) -> Result<Response<pb::ShareCustomerResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(self.share_customer(&caller, request.into_inner()).await?))
    }

    async fn set_reclaim_lock(
        &self,
        request: Request<pb::SetReclaimLockRequest>,
    ) -> Result<Response<pb::SetReclaimLockResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.set_reclaim_lock(&caller, request.into_inner()).await?,
        ))
    }

    async fn list_owner_changes(
        &self,
        request: Request<pb::ListOwnerChangesRequest>,
    ) -> Result<Response<pb::ListOwnerChangesResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.list_owner_changes(&caller, request.into_inner()).await?,
        ))
    }

    async fn list_customer_changes(
        &self,
        request: Request<pb::ListCustomerChangesRequest>,
    ) -> Result<Response<pb::ListCustomerChangesResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.list_customer_changes(&caller, request.into_inner()).await?,
        ))
    }

    async fn get_pool_policy(
        &self,
        request: Request<pb::GetPoolPolicyRequest>,
    ) -> Result<Response<pb::GetPoolPolicyResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(self.get_pool_policy(&caller).await?))
    }

    async fn update_pool_policy(
        &self,
        request: Request<pb::UpdatePoolPolicyRequest>,
    ) -> Result<Response<pb::UpdatePoolPolicyResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.update_pool_policy(&caller, request.into_inner()).await?,
        ))
    }

    async fn run_reclaim(
        &self,
        request: Request<pb::RunReclaimRequest>,
    ) -> Result<Response<pb::RunReclaimResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(self.run_reclaim(&caller, request.into_inner()).await?))
    }

    async fn list_reclaim_candidates(
        &self,
        request: Request<pb::ListReclaimCandidatesRequest>,
    ) -> Result<Response<pb::ListReclaimCandidatesResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.list_reclaim_candidates(&caller, request.into_inner()).await?,
        ))
    }

    async fn create_category(
        &self,
        request: Request<pb::CreateCategoryRequest>,
    ) -> Result<Response<pb::CreateCategoryResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.create_category(&caller, request.into_inner()).await?,
        ))
    }

    async fn list_categories(
        &self,
        request: Request<pb::ListCategoriesRequest>,
    ) -> Result<Response<pb::ListCategoriesResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(self.list_categories(&caller).await?))
    }

    async fn update_category(
        &self,
        request: Request<pb::UpdateCategoryRequest>,
    ) -> Result<Response<pb::UpdateCategoryResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.update_category(&caller, request.into_inner()).await?,
        ))
    }

    async fn delete_category(
        &self,
        request: Request<pb::DeleteCategoryRequest>,
    ) -> Result<Response<pb::DeleteCategoryResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.delete_category(&caller, request.into_inner()).await?,
        ))
    }

    async fn list_dictionary_entries(
        &self,
        request: Request<pb::ListDictionaryEntriesRequest>,
    ) -> Result<Response<pb::ListDictionaryEntriesResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.list_dictionary_entries(&caller, request.into_inner()).await?,
        ))
    }

    async fn create_dictionary_entry(
        &self,
        request: Request<pb::CreateDictionaryEntryRequest>,
    ) -> Result<Response<pb::CreateDictionaryEntryResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.create_dictionary_entry(&caller, request.into_inner()).await?,
        ))
    }

    async fn update_dictionary_entry(
        &self,
        request: Request<pb::UpdateDictionaryEntryRequest>,
    ) -> Result<Response<pb::UpdateDictionaryEntryResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.update_dictionary_entry(&caller, request.into_inner()).await?,
        ))
    }

    async fn delete_dictionary_entry(
        &self,
        request: Request<pb::DeleteDictionaryEntryRequest>,
    ) -> Result<Response<pb::DeleteDictionaryEntryResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.delete_dictionary_entry(&caller, request.into_inner()).await?,
        ))
    }

    async fn create_contact(
        &self,
        request: Request<pb::CreateContactRequest>,
    ) -> Result<Response<pb::CreateContactResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(self.create_contact(&caller, request.into_inner()).await?))
    }

    async fn get_contact(
        &self,
        request: Request<pb::GetContactRequest>,
    ) -> Result<Response<pb::GetContactResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(self.get_contact(&caller, request.into_inner()).await?))
    }

    async fn list_contacts(
        &self,
        request: Request<pb::ListContactsRequest>,
    ) -> Result<Response<pb::ListContactsResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(self.list_contacts(&caller, request.into_inner()).await?))
    }

    async fn update_contact(
        &self,
        request: Request<pb::UpdateContactRequest>,
    ) -> Result<Response<pb::UpdateContactResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(self.update_contact(&caller, request.into_inner()).await?))
    }

    async fn delete_contact(
        &self,
        request: Request<pb::DeleteContactRequest>,
    ) -> Result<Response<pb::DeleteContactResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(self.delete_contact(&caller, request.into_inner()).await?))
    }

    async fn create_follow_up(
        &self,
        request: Request<pb::CreateFollowUpRequest>,
    ) -> Result<Response<pb::CreateFollowUpResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.create_follow_up(&caller, request.into_inner()).await?,
        ))
    }

    async fn get_follow_up(
        &self,
        request: Request<pb::GetFollowUpRequest>,
    ) -> Result<Response<pb::GetFollowUpResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(self.get_follow_up(&caller, request.into_inner()).await?))
    }

    async fn list_follow_ups(
        &self,
        request: Request<pb::ListFollowUpsRequest>,
    ) -> Result<Response<pb::ListFollowUpsResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.list_follow_ups(&caller, request.into_inner()).await?,
        ))
    }

    async fn comment_follow_up(
        &self,
        request: Request<pb::CommentFollowUpRequest>,
    ) -> Result<Response<pb::CommentFollowUpResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.comment_follow_up(&caller, request.into_inner()).await?,
        ))
    }

    async fn list_reminders(
        &self,
        request: Request<pb::ListRemindersRequest>,
    ) -> Result<Response<pb::ListRemindersResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(self.list_reminders(&caller, request.into_inner()).await?))
    }

    async fn create_saved_filter(
        &self,
        request: Request<pb::CreateSavedFilterRequest>,
    ) -> Result<Response<pb::CreateSavedFilterResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.create_saved_filter(&caller, request.into_inner()).await?,
        ))
    }

    async fn list_saved_filters(
        &self,
        request: Request<pb::ListSavedFiltersRequest>,
    ) -> Result<Response<pb::ListSavedFiltersResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(self.list_saved_filters(&caller).await?))
    }

    async fn delete_saved_filter(
        &self,
        request: Request<pb::DeleteSavedFilterRequest>,
    ) -> Result<Response<pb::DeleteSavedFilterResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.delete_saved_filter(&caller, request.into_inner()).await?,
        ))
    }

    async fn import_customers(
        &self,
        request: Request<tonic::Streaming<pb::ImportCustomersRequest>>,
    ) -> Result<Response<pb::ImportCustomersResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(
            self.import_customers(&caller, request.into_inner()).await?,
        ))
    }

    async fn get_import_job(
        &self,
        request: Request<pb::GetImportJobRequest>,
    ) -> Result<Response<pb::GetImportJobResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(self.get_import_job(&caller, request.into_inner()).await?))
    }

    async fn cancel_import(
        &self,
        request: Request<pb::CancelImportRequest>,
    ) -> Result<Response<pb::CancelImportResponse>, Status> {
        let caller = Principal::of(&request)?;
        Ok(Response::new(self.cancel_import(&caller, request.into_inner()).await?))
    }

    type ExportCustomersStream = tokio_stream::wrappers::ReceiverStream<Result<pb::ExportCustomersResponse, Status>>;

    async fn export_customers(
        &self,
        request: Request<pb::ExportCustomersRequest>,
    ) -> Result<Response<Self::ExportCustomersStream>, Status> {
        let caller = Principal::of(&request)?;
        let rx = self.export_customers(&caller, request.into_inner()).await?;
        Ok(Response::new(tokio_stream::wrappers::ReceiverStream::new(rx)))
    }
}
