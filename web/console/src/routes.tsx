// The console's screens: each one's path, the permission that shows it (menus follow the
// permissions in the token), its menu entry, and its page, loaded when first opened so the first
// screen stays small. A screen is one more line here.

import { lazy, type ComponentType, type LazyExoticComponent } from "react";

export interface Screen {
  path: string;
  /** The permission the screen needs (`customers.customer.read`). */
  permission: string;
  /** The menu text's key; screens without one are reached from other screens. */
  menu?: string;
  /** The menu group's text key. */
  group?: string;
  page: LazyExoticComponent<ComponentType>;
}

export const SCREENS: Screen[] = [
  { path: "/day", permission: "customers.follow_up.read", menu: "menu.day", page: lazy(() => import("./pages/Day")) },
  { path: "/customers", permission: "customers.customer.read", menu: "menu.customers", group: "menu.customers", page: lazy(() => import("./pages/Customers")) },
  { path: "/customers/new", permission: "customers.customer.create", page: lazy(() => import("./pages/CustomerNew")) },
  { path: "/customers/import", permission: "customers.customer.import", menu: "menu.import", group: "menu.customers", page: lazy(() => import("./pages/CustomerImport")) },
  { path: "/customers/:customerId", permission: "customers.customer.read", page: lazy(() => import("./pages/Customer")) },
  { path: "/pool", permission: "customers.pool.read", menu: "menu.pool", group: "menu.customers", page: lazy(() => import("./pages/Pool")) },
  { path: "/leads", permission: "sales.lead.read", menu: "menu.leads", group: "menu.sales", page: lazy(() => import("./pages/Leads")) },
  { path: "/leads/:leadId", permission: "sales.lead.read", page: lazy(() => import("./pages/Lead")) },
  { path: "/pipeline", permission: "sales.opportunity.read", menu: "menu.pipeline", group: "menu.sales", page: lazy(() => import("./pages/Pipeline")) },
  { path: "/opportunities/:opportunityId", permission: "sales.opportunity.read", page: lazy(() => import("./pages/Opportunity")) },
  { path: "/projects", permission: "sales.project.read", menu: "menu.projects", group: "menu.sales", page: lazy(() => import("./pages/Projects")) },
  { path: "/projects/:projectId", permission: "sales.project.read", page: lazy(() => import("./pages/Project")) },
  { path: "/reports", permission: "sales.report.read", menu: "menu.reports", page: lazy(() => import("./pages/Reports")) },
  { path: "/products", permission: "warehouse.product.read", menu: "menu.products", group: "menu.warehouse", page: lazy(() => import("./pages/Products")) },
  { path: "/products/import", permission: "warehouse.catalog.write", page: lazy(() => import("./pages/ProductImport")) },
  { path: "/products/:productId", permission: "warehouse.product.read", page: lazy(() => import("./pages/Product")) },
  { path: "/price-lists", permission: "warehouse.product.read", menu: "menu.priceLists", group: "menu.warehouse", page: lazy(() => import("./pages/PriceLists")) },
  { path: "/price-lists/:priceListId", permission: "warehouse.product.read", page: lazy(() => import("./pages/PriceList")) },
  { path: "/price-check", permission: "warehouse.product.read", menu: "menu.priceCheck", group: "menu.warehouse", page: lazy(() => import("./pages/PriceCheck")) },
  { path: "/warehouses", permission: "warehouse.stock.read", menu: "menu.warehouses", group: "menu.warehouse", page: lazy(() => import("./pages/Warehouses")) },
  { path: "/stock", permission: "warehouse.stock.read", menu: "menu.stock", group: "menu.warehouse", page: lazy(() => import("./pages/Stock")) },
  { path: "/stock/documents", permission: "warehouse.stock.read", menu: "menu.stockDocuments", group: "menu.warehouse", page: lazy(() => import("./pages/StockDocuments")) },
  { path: "/stock/documents/:documentId", permission: "warehouse.stock.read", page: lazy(() => import("./pages/StockDocument")) },
  { path: "/stock/journal", permission: "warehouse.stock.read", menu: "menu.stockJournal", group: "menu.warehouse", page: lazy(() => import("./pages/StockJournal")) },
  { path: "/stock/serials", permission: "warehouse.stock.read", menu: "menu.serialNumbers", group: "menu.warehouse", page: lazy(() => import("./pages/SerialNumbers")) },
  { path: "/stock/stocktakes", permission: "warehouse.stock.read", menu: "menu.stocktakes", group: "menu.warehouse", page: lazy(() => import("./pages/Stocktakes")) },
  { path: "/stock/stocktakes/:stocktakeId", permission: "warehouse.stock.read", page: lazy(() => import("./pages/Stocktake")) },
  { path: "/stock/loans", permission: "warehouse.stock.read", menu: "menu.loans", group: "menu.warehouse", page: lazy(() => import("./pages/Loans")) },
  { path: "/stock/value", permission: "warehouse.report.read", menu: "menu.stockValue", group: "menu.warehouse", page: lazy(() => import("./pages/StockValue")) },
  { path: "/stock/reports", permission: "warehouse.report.read", menu: "menu.stockReports", group: "menu.warehouse", page: lazy(() => import("./pages/WarehouseReports")) },
  { path: "/admin/employees", permission: "identity.employee.update", menu: "menu.employees", group: "menu.admin", page: lazy(() => import("./pages/admin/Employees")) },
  { path: "/admin/employees/:employeeId", permission: "identity.employee.update", page: lazy(() => import("./pages/admin/Employee")) },
  { path: "/admin/departments", permission: "identity.department.manage", menu: "menu.departments", group: "menu.admin", page: lazy(() => import("./pages/admin/Departments")) },
  { path: "/admin/roles", permission: "identity.role.manage", menu: "menu.roles", group: "menu.admin", page: lazy(() => import("./pages/admin/Roles")) },
];
