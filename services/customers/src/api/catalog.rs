//! Categories, dictionaries and saved filters.

use crm_kit::auth::Principal;
use crm_kit::errors::Violations;
use crm_kit::fields::Code;
use crm_kit::time::now_micros;
use crm_kit::update::mask_paths;
use crm_kit::{Error, Result};
use crm_proto::customers as pb;

use super::{CustomersApi, check_etag, convert};
use crate::domain::{DICTIONARIES, optional_text, required_text};
use crate::store::catalog::{self, CategoryRow, EntryRow, SavedFilterRow};
use crm_kit::errors::reason;

const CATEGORY: &str = "crm.customers.v1.Category";
const ENTRY: &str = "crm.customers.v1.DictionaryEntry";
const SAVED_FILTER: &str = "crm.customers.v1.SavedFilter";

fn dictionary(field: &str, value: &str) -> Result<String> {
    let d = value.trim();
    if d.is_empty() {
        return Err(Error::required(field));
    }
    if !DICTIONARIES.contains(&d) {
        return Err(Error::invalid(
            field,
            "UNKNOWN_DICTIONARY",
            format!("must be one of {}", DICTIONARIES.join(", ")),
        ));
    }
    Ok(d.to_string())
}

impl CustomersApi {
    /// CreateCategory. A category that already holds customers cannot get sub-categories.
    pub async fn create_category(
        &self,
        caller: &Principal,
        req: pb::CreateCategoryRequest,
    ) -> Result<pb::CreateCategoryResponse> {
        let Some(src) = req.category.as_ref() else {
            return Err(Error::required("category"));
        };
        let mut v = Violations::new();
        let name = v
            .take(required_text("category.name", &src.name, 100))
            .unwrap_or_default();
        let parent_id = src.parent_id.trim().to_string();
        v.finish()?;
        caller.require("customers.catalog.manage")?;
        let mut tx = self.db.begin_write().await?;
        self.check_parent(&mut tx, "category.parent_id", &parent_id, None)
            .await?;
        let row = CategoryRow {
            id: crm_kit::new_id(),
            parent_id,
            name,
            sort_order: i64::from(src.sort_order),
            version: 1,
            customer_count: 0,
            child_count: 0,
        };
        if !catalog::insert_category(&mut tx, &row, &caller.employee_id, now_micros()).await? {
            return Err(sibling_clash(&row.name));
        }
        let stored = catalog::category(&mut tx, &row.id)
            .await?
            .ok_or_else(|| Error::not_found(CATEGORY, &row.id))?;
        tx.commit().await?;
        Ok(pb::CreateCategoryResponse {
            category: Some(convert::category(&stored)),
        })
    }

    async fn check_parent(
        &self,
        conn: &mut sqlx::AnyConnection,
        field: &str,
        parent_id: &str,
        moving: Option<&str>,
    ) -> Result<()> {
        if parent_id.is_empty() {
            return Ok(());
        }
        let Some(parent) = catalog::category(conn, parent_id).await? else {
            return Err(Error::invalid(
                field,
                "UNKNOWN_CATEGORY",
                format!("category {parent_id} does not exist"),
            ));
        };
        if parent.customer_count > 0 {
            return Err(Error::precondition(
                "CATEGORY_HAS_CUSTOMERS",
                format!("categories/{parent_id}"),
                format!(
                    "category {} already holds customers and cannot be split into sub-categories",
                    parent.name
                ),
            ));
        }
        if let Some(id) = moving
            && (parent_id == id || catalog::ancestors(conn, parent_id).await?.iter().any(|a| a == id))
        {
            return Err(Error::invalid(
                field,
                "CYCLE",
                "a category cannot move under itself or its descendants",
            ));
        }
        Ok(())
    }

    /// ListCategories: the whole tree.
    pub async fn list_categories(
        &self,
        _caller: &Principal,
        _req: pb::ListCategoriesRequest,
    ) -> Result<pb::ListCategoriesResponse> {
        let mut conn = self.conn().await?;
        let rows = catalog::categories(&mut conn).await?;
        Ok(pb::ListCategoriesResponse {
            categories: rows.iter().map(convert::category).collect(),
        })
    }

    /// UpdateCategory: rename, move or reorder.
    pub async fn update_category(
        &self,
        caller: &Principal,
        req: pb::UpdateCategoryRequest,
    ) -> Result<pb::UpdateCategoryResponse> {
        let Some(src) = req.category.as_ref() else {
            return Err(Error::required("category"));
        };
        let paths = req.update_mask.as_ref().map(|m| m.paths.clone()).unwrap_or_default();
        let mut v = Violations::new();
        mask_paths(
            &paths,
            &["name", "parent_id", "sort_order"],
            &["id", "customer_count", "child_count", "etag"],
            "Category",
            &mut v,
        );
        if src.id.trim().is_empty() {
            v.add("category.id", reason::REQUIRED, "is required");
        }
        v.finish()?;
        caller.require("customers.catalog.manage")?;
        let mut tx = self.db.begin_write().await?;
        let Some(mut row) = catalog::category(&mut tx, src.id.trim()).await? else {
            return Err(Error::not_found(CATEGORY, src.id.trim()));
        };
        check_etag("category.etag", &src.etag, row.version, "category")?;
        let version = row.version;
        let mut v = Violations::new();
        for p in &paths {
            match p.as_str() {
                "name" => {
                    row.name = v
                        .take(required_text("category.name", &src.name, 100))
                        .unwrap_or_default()
                }
                "parent_id" => row.parent_id = src.parent_id.trim().to_string(),
                _ => row.sort_order = i64::from(src.sort_order),
            }
        }
        v.finish()?;
        if paths.iter().any(|p| p == "parent_id") {
            self.check_parent(&mut tx, "category.parent_id", &row.parent_id.clone(), Some(&row.id))
                .await?;
        }
        match catalog::update_category(&mut tx, &row, version, &caller.employee_id, now_micros()).await? {
            None => return Err(Error::stale_etag("category")),
            Some(false) => return Err(sibling_clash(&row.name)),
            Some(true) => {}
        }
        let stored = catalog::category(&mut tx, &row.id)
            .await?
            .ok_or_else(|| Error::not_found(CATEGORY, &row.id))?;
        tx.commit().await?;
        Ok(pb::UpdateCategoryResponse {
            category: Some(convert::category(&stored)),
        })
    }

    /// DeleteCategory: only when it has no customers and no children.
    pub async fn delete_category(
        &self,
        caller: &Principal,
        req: pb::DeleteCategoryRequest,
    ) -> Result<pb::DeleteCategoryResponse> {
        if req.id.trim().is_empty() {
            return Err(Error::required("id"));
        }
        caller.require("customers.catalog.manage")?;
        let mut tx = self.db.begin_write().await?;
        let Some(row) = catalog::category(&mut tx, req.id.trim()).await? else {
            return Err(Error::not_found(CATEGORY, req.id.trim()));
        };
        if row.customer_count > 0 || row.child_count > 0 {
            return Err(Error::precondition(
                if row.customer_count > 0 {
                    "CATEGORY_HAS_CUSTOMERS"
                } else {
                    "CATEGORY_HAS_CHILDREN"
                },
                format!("categories/{}", row.id),
                format!(
                    "category {} has {} customers and {} sub-categories; move them first",
                    row.name, row.customer_count, row.child_count
                ),
            ));
        }
        catalog::delete_category(&mut tx, &row.id).await?;
        tx.commit().await?;
        Ok(pb::DeleteCategoryResponse {})
    }

    /// ListDictionaryEntries.
    pub async fn list_dictionary_entries(
        &self,
        _caller: &Principal,
        req: pb::ListDictionaryEntriesRequest,
    ) -> Result<pb::ListDictionaryEntriesResponse> {
        let d = dictionary("dictionary", &req.dictionary)?;
        let mut conn = self.conn().await?;
        let rows = catalog::entries(&mut conn, &d, req.include_disabled).await?;
        Ok(pb::ListDictionaryEntriesResponse {
            entries: rows.iter().map(convert::entry).collect(),
        })
    }

    /// CreateDictionaryEntry.
    pub async fn create_dictionary_entry(
        &self,
        caller: &Principal,
        req: pb::CreateDictionaryEntryRequest,
    ) -> Result<pb::CreateDictionaryEntryResponse> {
        let Some(src) = req.entry.as_ref() else {
            return Err(Error::required("entry"));
        };
        let mut v = Violations::new();
        let d = v
            .take(dictionary("entry.dictionary", &src.dictionary))
            .unwrap_or_default();
        let c = Code::parse(&mut v, "entry.code", &src.code)
            .map(Code::into_inner)
            .unwrap_or_default();
        let name = v
            .take(required_text("entry.display_name", &src.display_name, 100))
            .unwrap_or_default();
        v.finish()?;
        caller.require("customers.catalog.manage")?;
        let row = EntryRow {
            dictionary: d,
            code: c,
            display_name: name,
            enabled: 1,
            sort_order: i64::from(src.sort_order),
        };
        let mut tx = self.db.begin_write().await?;
        if !catalog::insert_entry(&mut tx, &row, now_micros()).await? {
            return Err(Error::AlreadyExists {
                reason: "DICTIONARY_CODE_EXISTS",
                message: format!("code {} already exists in the {} dictionary", row.code, row.dictionary),
                metadata: [("code".to_string(), row.code.clone())].into(),
                resource: None,
            });
        }
        tx.commit().await?;
        Ok(pb::CreateDictionaryEntryResponse {
            entry: Some(convert::entry(&row)),
        })
    }

    /// UpdateDictionaryEntry: display name, enabled, order; the code never changes.
    pub async fn update_dictionary_entry(
        &self,
        caller: &Principal,
        req: pb::UpdateDictionaryEntryRequest,
    ) -> Result<pb::UpdateDictionaryEntryResponse> {
        let Some(src) = req.entry.as_ref() else {
            return Err(Error::required("entry"));
        };
        let paths = req.update_mask.as_ref().map(|m| m.paths.clone()).unwrap_or_default();
        let mut v = Violations::new();
        let d = v
            .take(dictionary("entry.dictionary", &src.dictionary))
            .unwrap_or_default();
        let c = Code::parse(&mut v, "entry.code", &src.code)
            .map(Code::into_inner)
            .unwrap_or_default();
        // The dictionary and code name the entry; they are its identity, not editable fields.
        mask_paths(
            &paths,
            &["display_name", "enabled", "sort_order"],
            &["dictionary", "code"],
            "DictionaryEntry",
            &mut v,
        );
        v.finish()?;
        caller.require("customers.catalog.manage")?;
        let mut tx = self.db.begin_write().await?;
        let Some(mut row) = catalog::entry(&mut tx, &d, &c).await? else {
            return Err(Error::not_found(ENTRY, format!("{d}/{c}")));
        };
        let mut v = Violations::new();
        for p in &paths {
            match p.as_str() {
                "display_name" => {
                    row.display_name = v
                        .take(required_text("entry.display_name", &src.display_name, 100))
                        .unwrap_or_default()
                }
                "enabled" => row.enabled = i64::from(src.enabled),
                _ => row.sort_order = i64::from(src.sort_order),
            }
        }
        v.finish()?;
        catalog::update_entry(&mut tx, &row, now_micros()).await?;
        tx.commit().await?;
        Ok(pb::UpdateDictionaryEntryResponse {
            entry: Some(convert::entry(&row)),
        })
    }

    /// DeleteDictionaryEntry: a code in use can only be disabled.
    pub async fn delete_dictionary_entry(
        &self,
        caller: &Principal,
        req: pb::DeleteDictionaryEntryRequest,
    ) -> Result<pb::DeleteDictionaryEntryResponse> {
        let mut v = Violations::new();
        let d = v.take(dictionary("dictionary", &req.dictionary)).unwrap_or_default();
        let c = Code::parse(&mut v, "code", &req.code)
            .map(Code::into_inner)
            .unwrap_or_default();
        v.finish()?;
        caller.require("customers.catalog.manage")?;
        let mut tx = self.db.begin_write().await?;
        if catalog::entry(&mut tx, &d, &c).await?.is_none() {
            return Err(Error::not_found(ENTRY, format!("{d}/{c}")));
        }
        let used = catalog::code_usage(&mut tx, &d, &c).await?;
        if used > 0 {
            return Err(Error::precondition(
                "DICTIONARY_CODE_IN_USE",
                format!("dictionaries/{d}/entries/{c}"),
                format!("{used} customers use code {c}; disable it instead of deleting it"),
            ));
        }
        catalog::delete_entry(&mut tx, &d, &c).await?;
        tx.commit().await?;
        Ok(pb::DeleteDictionaryEntryResponse {})
    }

    /// CreateSavedFilter: the filter and order are checked now, not when they are used.
    pub async fn create_saved_filter(
        &self,
        caller: &Principal,
        req: pb::CreateSavedFilterRequest,
    ) -> Result<pb::CreateSavedFilterResponse> {
        let Some(src) = req.saved_filter.as_ref() else {
            return Err(Error::required("saved_filter"));
        };
        let mut v = Violations::new();
        let name = v
            .take(required_text("saved_filter.name", &src.name, 100))
            .unwrap_or_default();
        let query = v
            .take(optional_text(
                "saved_filter.query",
                &src.query,
                crm_kit::text::MAX_SEARCH_QUERY_CHARS,
            ))
            .unwrap_or_default();
        if let Err(Error::InvalidArgument(list)) = super::customers::compile_filter(&src.filter) {
            for f in list {
                v.add("saved_filter.filter", f.reason, f.description);
            }
        }
        if let Err(Error::InvalidArgument(list)) = super::customers::list_sql(
            self.db.backend,
            caller,
            &super::customers::CustomerQuery {
                filter: String::new(),
                query: String::new(),
                order_by: src.order_by.clone(),
                show_deleted: false,
            },
        )
        .map(|_| ())
        {
            for f in list {
                v.add("saved_filter.order_by", f.reason, f.description);
            }
        }
        v.finish()?;
        let row = SavedFilterRow {
            id: crm_kit::new_id(),
            employee_id: caller.employee_id.clone(),
            name,
            filter: src.filter.trim().to_string(),
            query,
            order_by: src.order_by.trim().to_string(),
            created_at: now_micros(),
        };
        let mut tx = self.db.begin_write().await?;
        if !catalog::insert_saved_filter(&mut tx, &row).await? {
            return Err(Error::AlreadyExists {
                reason: "SAVED_FILTER_EXISTS",
                message: format!("you already have a saved filter named {}", row.name),
                metadata: Default::default(),
                resource: None,
            });
        }
        tx.commit().await?;
        Ok(pb::CreateSavedFilterResponse {
            saved_filter: Some(convert::saved_filter(&row)),
        })
    }

    /// ListSavedFilters: the caller's own.
    pub async fn list_saved_filters(
        &self,
        caller: &Principal,
        _req: pb::ListSavedFiltersRequest,
    ) -> Result<pb::ListSavedFiltersResponse> {
        let mut conn = self.conn().await?;
        let rows = catalog::saved_filters(&mut conn, &caller.employee_id).await?;
        Ok(pb::ListSavedFiltersResponse {
            saved_filters: rows.iter().map(convert::saved_filter).collect(),
        })
    }

    /// DeleteSavedFilter: one of the caller's own.
    pub async fn delete_saved_filter(
        &self,
        caller: &Principal,
        req: pb::DeleteSavedFilterRequest,
    ) -> Result<pb::DeleteSavedFilterResponse> {
        if req.id.trim().is_empty() {
            return Err(Error::required("id"));
        }
        let mut tx = self.db.begin_write().await?;
        if !catalog::delete_saved_filter(&mut tx, &caller.employee_id, req.id.trim()).await? {
            return Err(Error::not_found(SAVED_FILTER, req.id.trim()));
        }
        tx.commit().await?;
        Ok(pb::DeleteSavedFilterResponse {})
    }
}

fn sibling_clash(name: &str) -> Error {
    Error::AlreadyExists {
        reason: "CATEGORY_NAME_TAKEN",
        message: format!("a sibling category is already named {name}"),
        metadata: [("name".to_string(), name.to_string())].into(),
        resource: None,
    }
}
