//! The generated `CustomersService` trait, each RPC handed to the inherent method of the same
//! name with the caller taken from the request's extensions.

use crm_proto::customers as pb;
use crm_proto::customers::customers_service_server::CustomersService;

use super::CustomersApi;

crm_kit::rpcs! {
    impl CustomersService for CustomersApi;
    public: []
    signed_in: [
        create_customer(pb::CreateCustomerRequest) -> pb::CreateCustomerResponse;
        get_customer(pb::GetCustomerRequest) -> pb::GetCustomerResponse;
        list_customers(pb::ListCustomersRequest) -> pb::ListCustomersResponse;
        update_customer(pb::UpdateCustomerRequest) -> pb::UpdateCustomerResponse;
        delete_customer(pb::DeleteCustomerRequest) -> pb::DeleteCustomerResponse;
        check_duplicates(pb::CheckDuplicatesRequest) -> pb::CheckDuplicatesResponse;
        merge_customers(pb::MergeCustomersRequest) -> pb::MergeCustomersResponse;
        assign_customer(pb::AssignCustomerRequest) -> pb::AssignCustomerResponse;
        transfer_customer(pb::TransferCustomerRequest) -> pb::TransferCustomerResponse;
        release_customer(pb::ReleaseCustomerRequest) -> pb::ReleaseCustomerResponse;
        claim_customer(pb::ClaimCustomerRequest) -> pb::ClaimCustomerResponse;
        share_customer(pb::ShareCustomerRequest) -> pb::ShareCustomerResponse;
        set_reclaim_lock(pb::SetReclaimLockRequest) -> pb::SetReclaimLockResponse;
        list_owner_changes(pb::ListOwnerChangesRequest) -> pb::ListOwnerChangesResponse;
        list_customer_changes(pb::ListCustomerChangesRequest) -> pb::ListCustomerChangesResponse;
        get_pool_policy(pb::GetPoolPolicyRequest) -> pb::GetPoolPolicyResponse;
        update_pool_policy(pb::UpdatePoolPolicyRequest) -> pb::UpdatePoolPolicyResponse;
        run_reclaim(pb::RunReclaimRequest) -> pb::RunReclaimResponse;
        list_reclaim_candidates(pb::ListReclaimCandidatesRequest) -> pb::ListReclaimCandidatesResponse;
        create_category(pb::CreateCategoryRequest) -> pb::CreateCategoryResponse;
        list_categories(pb::ListCategoriesRequest) -> pb::ListCategoriesResponse;
        update_category(pb::UpdateCategoryRequest) -> pb::UpdateCategoryResponse;
        delete_category(pb::DeleteCategoryRequest) -> pb::DeleteCategoryResponse;
        list_dictionary_entries(pb::ListDictionaryEntriesRequest) -> pb::ListDictionaryEntriesResponse;
        create_dictionary_entry(pb::CreateDictionaryEntryRequest) -> pb::CreateDictionaryEntryResponse;
        update_dictionary_entry(pb::UpdateDictionaryEntryRequest) -> pb::UpdateDictionaryEntryResponse;
        delete_dictionary_entry(pb::DeleteDictionaryEntryRequest) -> pb::DeleteDictionaryEntryResponse;
        create_contact(pb::CreateContactRequest) -> pb::CreateContactResponse;
        get_contact(pb::GetContactRequest) -> pb::GetContactResponse;
        list_contacts(pb::ListContactsRequest) -> pb::ListContactsResponse;
        update_contact(pb::UpdateContactRequest) -> pb::UpdateContactResponse;
        delete_contact(pb::DeleteContactRequest) -> pb::DeleteContactResponse;
        create_follow_up(pb::CreateFollowUpRequest) -> pb::CreateFollowUpResponse;
        get_follow_up(pb::GetFollowUpRequest) -> pb::GetFollowUpResponse;
        list_follow_ups(pb::ListFollowUpsRequest) -> pb::ListFollowUpsResponse;
        comment_follow_up(pb::CommentFollowUpRequest) -> pb::CommentFollowUpResponse;
        list_reminders(pb::ListRemindersRequest) -> pb::ListRemindersResponse;
        create_saved_filter(pb::CreateSavedFilterRequest) -> pb::CreateSavedFilterResponse;
        list_saved_filters(pb::ListSavedFiltersRequest) -> pb::ListSavedFiltersResponse;
        delete_saved_filter(pb::DeleteSavedFilterRequest) -> pb::DeleteSavedFilterResponse;
        import_customers(tonic::Streaming<pb::ImportCustomersRequest>) -> pb::ImportCustomersResponse;
        get_import_job(pb::GetImportJobRequest) -> pb::GetImportJobResponse;
        cancel_import(pb::CancelImportRequest) -> pb::CancelImportResponse;
    ]
    server_streaming: [
        export_customers(pb::ExportCustomersRequest) -> pb::ExportCustomersResponse as ExportCustomersStream;
    ]
}
