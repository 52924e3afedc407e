//! The built-in roles, matching the people the CRM is for. They are written to the database at
//! every start, so a new release's permissions reach them; administrators add custom roles.

use crm_kit::auth::Scope;

/// A built-in role: name (also its id), description, permission patterns, scope per service
/// (`*` for every service not named).
pub struct BuiltIn {
    pub name: &'static str,
    pub description: &'static str,
    pub permissions: &'static [&'static str],
    pub scopes: &'static [(&'static str, Scope)],
}

/// Reading the directory of colleagues is everyone's.
const DIRECTORY: [&str; 3] = [
    "identity.employee.read",
    "identity.department.read",
    "identity.role.read",
];

macro_rules! perms {
    ($($p:expr),* $(,)?) => { &[$($p),*] };
}

/// Every built-in role.
pub const BUILT_IN: &[BuiltIn] = &[
    BuiltIn {
        name: "admin",
        description: "Administrator: everything, including employees, roles and keys",
        permissions: perms!["*"],
        scopes: &[("*", Scope::All)],
    },
    BuiltIn {
        name: "boss",
        description: "Owner or general manager: reads everything, exports, sees every report",
        permissions: perms![
            "*.*.read",
            "*.*.export",
            "*.report.*",
            DIRECTORY[0],
            DIRECTORY[1],
            DIRECTORY[2]
        ],
        scopes: &[("*", Scope::All)],
    },
    BuiltIn {
        name: "sales_manager",
        description: "Sales manager: the team's customers and pipeline, assigning and the pool rules",
        permissions: perms![
            "customers.*.*",
            "sales.*.*",
            "orders.*.read",
            "warehouse.product.read",
            "warehouse.stock.read",
            "warehouse.price.write",
            DIRECTORY[0],
            DIRECTORY[1],
            DIRECTORY[2]
        ],
        scopes: &[
            ("customers", Scope::DepartmentTree),
            ("sales", Scope::DepartmentTree),
            ("orders", Scope::DepartmentTree),
            // The catalog and what is available, in every warehouse.
            ("warehouse", Scope::All),
        ],
    },
    BuiltIn {
        name: "salesperson",
        description: "Salesperson: own customers, the public pool, follow-ups and deals",
        permissions: perms![
            "customers.customer.create",
            "customers.customer.read",
            "customers.customer.update",
            "customers.customer.release",
            "customers.customer.transfer",
            "customers.customer.share",
            "customers.customer.lock",
            "customers.customer.merge",
            "customers.customer.delete",
            "customers.customer.import",
            "customers.customer.export",
            "customers.pool.read",
            "customers.pool.claim",
            "customers.contact.read",
            "customers.contact.write",
            "customers.follow_up.create",
            "customers.follow_up.read",
            "customers.catalog.read",
            "sales.lead.create",
            "sales.lead.read",
            "sales.lead.update",
            "sales.lead.delete",
            "sales.lead.claim",
            "sales.lead.convert",
            "sales.lead.import",
            "sales.lead.export",
            "sales.opportunity.create",
            "sales.opportunity.read",
            "sales.opportunity.update",
            "sales.opportunity.delete",
            "sales.activity.write",
            "sales.project.create",
            "sales.project.read",
            "sales.project.update",
            "sales.pipeline.read",
            "sales.quota.read",
            "sales.report.read",
            "orders.*.read",
            "orders.order.create",
            "warehouse.product.read",
            "warehouse.stock.read",
            DIRECTORY[0],
            DIRECTORY[1],
            DIRECTORY[2]
        ],
        scopes: &[
            ("customers", Scope::Own),
            ("sales", Scope::Own),
            ("orders", Scope::Own),
            // The catalog and what is available, in every warehouse.
            ("warehouse", Scope::All),
        ],
    },
    BuiltIn {
        name: "sales_assistant",
        description: "Sales assistant: keeps the department's customer records and follow-ups",
        permissions: perms![
            "customers.customer.create",
            "customers.customer.read",
            "customers.customer.update",
            "customers.contact.read",
            "customers.contact.write",
            "customers.follow_up.create",
            "customers.follow_up.read",
            "customers.catalog.read",
            "customers.pool.read",
            DIRECTORY[0],
            DIRECTORY[1],
            DIRECTORY[2]
        ],
        scopes: &[("customers", Scope::Department), ("sales", Scope::Department)],
    },
    BuiltIn {
        name: "finance",
        description: "Finance office: receivables, payables, invoices; reads customers",
        permissions: perms![
            "finance.*.*",
            "customers.customer.read",
            "customers.contact.read",
            "customers.catalog.read",
            "orders.*.read",
            DIRECTORY[0],
            DIRECTORY[1],
            DIRECTORY[2]
        ],
        scopes: &[("*", Scope::All)],
    },
    BuiltIn {
        name: "purchaser",
        description: "Purchaser: suppliers and purchase orders",
        permissions: perms![
            "purchasing.*.*",
            "warehouse.*.read",
            DIRECTORY[0],
            DIRECTORY[1],
            DIRECTORY[2]
        ],
        scopes: &[("purchasing", Scope::All), ("warehouse", Scope::All)],
    },
    BuiltIn {
        name: "warehouse_manager",
        description: "Warehouse manager: the catalog, every warehouse and its keepers, stock, counts and reports",
        permissions: perms![
            "warehouse.*.*",
            "purchasing.*.read",
            "orders.*.read",
            DIRECTORY[0],
            DIRECTORY[1],
            DIRECTORY[2]
        ],
        scopes: &[
            ("warehouse", Scope::All),
            ("purchasing", Scope::All),
            ("orders", Scope::All),
        ],
    },
    BuiltIn {
        name: "warehouse_keeper",
        description: "Warehouse keeper: stock, receipts, issues and counts in the warehouses they keep",
        permissions: perms![
            "warehouse.product.read",
            "warehouse.catalog.write",
            "warehouse.stock.read",
            "warehouse.document.*",
            "warehouse.stocktake.*",
            "warehouse.reservation.*",
            "warehouse.report.*",
            "purchasing.*.read",
            "orders.*.read",
            DIRECTORY[0],
            DIRECTORY[1],
            DIRECTORY[2]
        ],
        // `own` in the warehouse: the warehouses the keeper keeps.
        scopes: &[
            ("warehouse", Scope::Own),
            ("purchasing", Scope::All),
            ("orders", Scope::All),
        ],
    },
    BuiltIn {
        name: "service_agent",
        description: "After-sales agent: takes repair cases; reads customers and their contacts",
        permissions: perms![
            "service.*.*",
            "customers.customer.read",
            "customers.contact.read",
            "customers.catalog.read",
            DIRECTORY[0],
            DIRECTORY[1],
            DIRECTORY[2]
        ],
        scopes: &[("service", Scope::All), ("customers", Scope::All)],
    },
    BuiltIn {
        name: "technician",
        description: "Technician: the repair cases assigned to them",
        permissions: perms![
            "service.case.read",
            "service.case.update",
            "service.part.read",
            DIRECTORY[0],
            DIRECTORY[1]
        ],
        scopes: &[("service", Scope::Own)],
    },
];

/// The built-in role named `name`.
pub fn built_in(name: &str) -> Option<&'static BuiltIn> {
    BUILT_IN.iter().find(|r| r.name == name)
}
