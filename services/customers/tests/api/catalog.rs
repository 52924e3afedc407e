//! Categories, dictionaries and saved filters.

use crm_proto::customers as pb;
use prost_types::FieldMask;
use tonic::Code;

use crate::helpers::{assert_field, assert_reason, company, create, list_all, spawn};

#[tokio::test]
async fn category_tree_rules() {
    let app = spawn().await;
    let mut manager = app.manager().await;
    let new_category = |parent: &str, name: &str| pb::CreateCategoryRequest {
        category: Some(pb::Category {
            parent_id: parent.into(),
            name: name.into(),
            ..Default::default()
        }),
    };
    let root = manager
        .create_category(new_category("", "Industry"))
        .await
        .unwrap()
        .into_inner()
        .category
        .unwrap();
    let leaf = manager
        .create_category(new_category(&root.id, "Electronics"))
        .await
        .unwrap()
        .into_inner()
        .category
        .unwrap();
    assert_reason(
        manager.create_category(new_category(&root.id, "Electronics")).await,
        Code::AlreadyExists,
        "CATEGORY_NAME_TAKEN",
    );
    assert_field(
        manager.create_category(new_category("missing", "X")).await,
        Code::InvalidArgument,
        "category.parent_id",
    );

    // A customer goes under a leaf; a category with children refuses customers.
    let mut c = company("Categorised Ltd");
    c.category_id = root.id.clone();
    assert_field(
        manager
            .create_customer(pb::CreateCustomerRequest {
                customer: Some(c.clone()),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "customer.category_id",
    );
    c.category_id = leaf.id.clone();
    create(&mut manager, c).await;
    // A category with customers cannot be split or deleted.
    assert_reason(
        manager.create_category(new_category(&leaf.id, "Sub")).await,
        Code::FailedPrecondition,
        "CATEGORY_HAS_CUSTOMERS",
    );
    assert_reason(
        manager
            .delete_category(pb::DeleteCategoryRequest { id: leaf.id.clone() })
            .await,
        Code::FailedPrecondition,
        "CATEGORY_HAS_CUSTOMERS",
    );
    assert_reason(
        manager
            .delete_category(pb::DeleteCategoryRequest { id: root.id.clone() })
            .await,
        Code::FailedPrecondition,
        "CATEGORY_HAS_CHILDREN",
    );
    let list = manager
        .list_categories(pb::ListCategoriesRequest {})
        .await
        .unwrap()
        .into_inner()
        .categories;
    let l = list.iter().find(|x| x.id == leaf.id).unwrap();
    assert_eq!((l.customer_count, l.child_count), (1, 0));
    // Moving a category under its own child is refused; renaming works with the etag.
    let mut moved = root.clone();
    moved.parent_id = leaf.id.clone();
    let status = manager
        .update_category(pb::UpdateCategoryRequest {
            category: Some(moved),
            update_mask: Some(FieldMask {
                paths: vec!["parent_id".into()],
            }),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(status.code(), Code::FailedPrecondition | Code::InvalidArgument),
        "{status:?}"
    );
    let mut renamed = root.clone();
    renamed.name = "Industries".into();
    let r = manager
        .update_category(pb::UpdateCategoryRequest {
            category: Some(renamed),
            update_mask: Some(FieldMask {
                paths: vec!["name".into()],
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .category
        .unwrap();
    assert_eq!(r.name, "Industries");
    // Salespeople do not edit the tree.
    let mut alice = app.sales("alice").await;
    assert_eq!(
        alice
            .create_category(new_category("", "Mine"))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
}

#[tokio::test]
async fn dictionary_codes_are_stable_and_in_use_codes_only_disable() {
    let app = spawn().await;
    let mut manager = app.manager().await;
    let levels = manager
        .list_dictionary_entries(pb::ListDictionaryEntriesRequest {
            dictionary: "level".into(),
            include_disabled: false,
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(
        levels.iter().map(|e| e.code.as_str()).collect::<Vec<_>>(),
        ["A", "B", "C", "D"]
    );
    manager
        .create_dictionary_entry(pb::CreateDictionaryEntryRequest {
            entry: Some(pb::DictionaryEntry {
                dictionary: "source".into(),
                code: "trade_show".into(),
                display_name: "展会".into(),
                enabled: true,
                sort_order: 9,
            }),
        })
        .await
        .unwrap();
    let mut c = company("Dictionary User Ltd");
    c.source_code = "trade_show".into();
    let c = create(&mut manager, c).await;
    // Renaming the display name changes nothing else.
    manager
        .update_dictionary_entry(pb::UpdateDictionaryEntryRequest {
            entry: Some(pb::DictionaryEntry {
                dictionary: "source".into(),
                code: "trade_show".into(),
                display_name: "Trade show".into(),
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["display_name".into()],
            }),
        })
        .await
        .unwrap();
    let got = manager
        .get_customer(pb::GetCustomerRequest { id: c.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    assert_eq!(got.source_code, "trade_show");
    assert_reason(
        manager
            .delete_dictionary_entry(pb::DeleteDictionaryEntryRequest {
                dictionary: "source".into(),
                code: "trade_show".into(),
            })
            .await,
        Code::FailedPrecondition,
        "DICTIONARY_CODE_IN_USE",
    );
    // Disabled codes cannot be chosen for new customers.
    manager
        .update_dictionary_entry(pb::UpdateDictionaryEntryRequest {
            entry: Some(pb::DictionaryEntry {
                dictionary: "source".into(),
                code: "trade_show".into(),
                enabled: false,
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["enabled".into()],
            }),
        })
        .await
        .unwrap();
    let mut d = company("Second User Ltd");
    d.source_code = "trade_show".into();
    assert_field(
        manager
            .create_customer(pb::CreateCustomerRequest {
                customer: Some(d),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "customer.source_code",
    );
    assert_field(
        manager
            .list_dictionary_entries(pb::ListDictionaryEntriesRequest {
                dictionary: "colours".into(),
                include_disabled: false,
            })
            .await,
        Code::InvalidArgument,
        "dictionary",
    );
    // An unused code can be deleted.
    manager
        .delete_dictionary_entry(pb::DeleteDictionaryEntryRequest {
            dictionary: "level".into(),
            code: "D".into(),
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn saved_filters_are_per_employee_and_checked() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let mut bob = app.sales("bob").await;
    let mut a = company("Saved Filter Target");
    a.level_code = "A".into();
    create(&mut alice, a).await;
    create(&mut alice, company("Other One")).await;
    let saved = alice
        .create_saved_filter(pb::CreateSavedFilterRequest {
            saved_filter: Some(pb::SavedFilter {
                name: "My A list".into(),
                filter: r#"level_code = "A""#.into(),
                order_by: "name".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .saved_filter
        .unwrap();
    let mine = alice
        .list_saved_filters(pb::ListSavedFiltersRequest {})
        .await
        .unwrap()
        .into_inner()
        .saved_filters;
    assert_eq!(mine.len(), 1);
    assert!(
        bob.list_saved_filters(pb::ListSavedFiltersRequest {})
            .await
            .unwrap()
            .into_inner()
            .saved_filters
            .is_empty()
    );
    assert_eq!(
        list_all(&mut alice, &mine[0].filter, &mine[0].query, &mine[0].order_by, 10)
            .await
            .len(),
        1
    );
    assert_field(
        alice
            .create_saved_filter(pb::CreateSavedFilterRequest {
                saved_filter: Some(pb::SavedFilter {
                    name: "Broken".into(),
                    filter: "colour = \"red\"".into(),
                    ..Default::default()
                }),
            })
            .await,
        Code::InvalidArgument,
        "saved_filter.filter",
    );
    assert_eq!(
        bob.delete_saved_filter(pb::DeleteSavedFilterRequest { id: saved.id.clone() })
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    alice
        .delete_saved_filter(pb::DeleteSavedFilterRequest { id: saved.id })
        .await
        .unwrap();
}
