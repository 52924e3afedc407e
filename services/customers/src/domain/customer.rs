//! The editable fields of a customer: parsed from the wire (create takes them all, update only
//! the paths of its field mask), checked together, and compared for the change history.

use std::collections::BTreeMap;

use crm_kit::errors::Violations;
use crm_kit::fields::{Email, Mobile, Phone};
use crm_kit::money::Money;
use crm_kit::phone::PhoneRegion;
use crm_proto::customers as pb;

use super::codes;
use super::contact_info::{parse_tax_id, parse_website};
use super::{optional_date, optional_text, required_text};
use crm_kit::errors::reason;

/// Longest customer name.
pub const MAX_NAME: usize = 200;
/// Most tags on one customer.
pub const MAX_TAGS: usize = 50;

/// Field-mask paths a client may change.
pub const EDITABLE_PATHS: &[&str] = &[
    "kind",
    "name",
    "short_name",
    "tax_id",
    "industry_code",
    "scale",
    "website",
    "region",
    "region.country",
    "region.province",
    "region.city",
    "region.district",
    "address",
    "phone",
    "mobile",
    "email",
    "gender",
    "birthday",
    "id_number",
    "category_id",
    "type_code",
    "level_code",
    "source_code",
    "status",
    "credit_limit",
    "remark",
    "tags",
    "custom_fields",
];

/// Field-mask paths the server owns; naming one in an update is refused.
pub const SERVER_OWNED_PATHS: &[&str] = &[
    "id",
    "owner_id",
    "owned_since",
    "collaborator_ids",
    "reclaim_locked",
    "last_follow_up_time",
    "next_follow_up_time",
    "last_order_time",
    "total_ordered",
    "receivable_balance",
    "audit",
    "etag",
    "delete_time",
    "primary_contact",
];

/// What a client may set on a customer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerFields {
    pub kind: &'static str,
    pub name: String,
    pub short_name: String,
    pub tax_id: String,
    pub industry_code: String,
    pub scale: String,
    pub website: String,
    pub country: String,
    pub province: String,
    pub city: String,
    pub district: String,
    pub address: String,
    /// The phone in E.164 (matched for duplicates), and as typed (shown).
    pub phone: String,
    pub phone_typed: String,
    /// The mobile in E.164 (unique among individuals), and as typed.
    pub mobile: String,
    pub mobile_typed: String,
    pub email: String,
    pub gender: &'static str,
    pub birthday: String,
    pub id_number: String,
    pub category_id: String,
    pub type_code: String,
    pub level_code: String,
    pub source_code: String,
    pub status: &'static str,
    pub credit_limit: Option<Money>,
    pub remark: String,
    pub tags: Vec<String>,
    pub custom_fields: BTreeMap<String, String>,
}

fn text(v: &mut Violations, field: &str, value: &str, max: usize) -> String {
    v.take(optional_text(field, value, max)).unwrap_or_default()
}

fn notes(v: &mut Violations, field: &str, value: &str, max: usize) -> String {
    v.take(super::optional_notes(field, value, max)).unwrap_or_default()
}

fn optional<T: Default>(v: &mut Violations, value: &str, parse: impl FnOnce(&str) -> crm_kit::Result<T>) -> T {
    if value.trim().is_empty() {
        T::default()
    } else {
        v.take(parse(value)).unwrap_or_default()
    }
}

impl CustomerFields {
    /// Fields of a new customer: every path from `src`.
    pub fn from_create(src: &pb::Customer, region: PhoneRegion, v: &mut Violations) -> CustomerFields {
        let mut f = CustomerFields {
            kind: "company",
            status: "potential",
            ..Default::default()
        };
        match codes::parse_kind("customer.kind", src.kind) {
            Ok(k) => f.kind = codes::kind_code(k),
            Err(e) => {
                v.take::<()>(Err(e));
            }
        }
        let paths: Vec<&str> = EDITABLE_PATHS
            .iter()
            .copied()
            .filter(|p| *p != "kind" && !p.starts_with("region."))
            .collect();
        f.apply(src, &paths, region, v);
        f
    }

    /// Applies the mask's paths from `src` onto these fields.
    /// Numbers without a country code are read as numbers of `region`.
    pub fn apply(&mut self, src: &pb::Customer, paths: &[&str], phones: PhoneRegion, v: &mut Violations) {
        let region = src.region.clone().unwrap_or_default();
        for path in paths {
            let field = format!("customer.{path}");
            let field = field.as_str();
            match *path {
                "kind" => {
                    if let Some(k) = v.take(codes::parse_kind(field, src.kind)) {
                        self.kind = codes::kind_code(k);
                    }
                }
                "name" => self.name = v.take(required_text(field, &src.name, MAX_NAME)).unwrap_or_default(),
                "short_name" => self.short_name = text(v, field, &src.short_name, 100),
                "tax_id" => self.tax_id = optional(v, &src.tax_id, |s| parse_tax_id(field, s)),
                "industry_code" => self.industry_code = text(v, field, &src.industry_code, 32),
                "scale" => self.scale = text(v, field, &src.scale, 50),
                "website" => self.website = optional(v, &src.website, |s| parse_website(field, s)),
                "region" => {
                    self.country = text(v, "customer.region.country", &region.country, 100);
                    self.province = text(v, "customer.region.province", &region.province, 100);
                    self.city = text(v, "customer.region.city", &region.city, 100);
                    self.district = text(v, "customer.region.district", &region.district, 100);
                }
                "region.country" => self.country = text(v, field, &region.country, 100),
                "region.province" => self.province = text(v, field, &region.province, 100),
                "region.city" => self.city = text(v, field, &region.city, 100),
                "region.district" => self.district = text(v, field, &region.district, 100),
                "address" => self.address = notes(v, field, &src.address, 500),
                "phone" => {
                    let p = Phone::parse_optional(v, field, &src.phone, phones);
                    (self.phone_typed, self.phone) = p.map(Phone::into_parts).unwrap_or_default();
                }
                "mobile" => {
                    let m = Mobile::parse_optional(v, field, &src.mobile, phones);
                    (self.mobile_typed, self.mobile) = m.map(Mobile::into_parts).unwrap_or_default();
                }
                "email" => {
                    self.email = Email::parse_optional(v, field, &src.email)
                        .map(Email::into_inner)
                        .unwrap_or_default()
                }
                "gender" => {
                    if let Some(g) = v.take(codes::parse_gender(field, src.gender)) {
                        self.gender = codes::gender_code(g);
                    }
                }
                "birthday" => self.birthday = v.take(optional_date(field, &src.birthday, false)).unwrap_or_default(),
                "id_number" => self.id_number = text(v, field, &src.id_number, 32),
                "category_id" => self.category_id = text(v, field, &src.category_id, 64),
                "type_code" => self.type_code = text(v, field, &src.type_code, 32),
                "level_code" => self.level_code = text(v, field, &src.level_code, 32),
                "source_code" => self.source_code = text(v, field, &src.source_code, 32),
                "status" => {
                    if let Some(s) = v.take(codes::parse_status(field, src.status)) {
                        self.status = codes::status_code(s);
                    }
                }
                "credit_limit" => {
                    self.credit_limit = match &src.credit_limit {
                        None => None,
                        Some(m) if m.amount.trim().is_empty() && m.currency_code.trim().is_empty() => None,
                        Some(m) => match Money::parse(&m.currency_code, &m.amount) {
                            Ok(money) if money.amount.is_sign_negative() => {
                                v.add(field, reason::NEGATIVE, "must not be negative");
                                None
                            }
                            Ok(money) => Some(money),
                            Err(e) => {
                                v.add(field, reason::MALFORMED, e.to_string());
                                None
                            }
                        },
                    }
                }
                "remark" => self.remark = notes(v, field, &src.remark, 2000),
                "tags" => {
                    self.tags = crm_kit::text::distinct_list(
                        v,
                        "customer.tags",
                        &src.tags,
                        crm_kit::text::ListRule {
                            max_items: MAX_TAGS,
                            max_chars: 50,
                            skip_empty: false,
                        },
                    );
                }
                "custom_fields" => {
                    self.custom_fields = crm_kit::text::custom_fields(v, "customer.custom_fields", &src.custom_fields);
                }
                other => v.add(
                    format!("update_mask.{other}"),
                    reason::UNKNOWN_FIELD,
                    "is not a field of Customer",
                ),
            }
        }
    }

    /// Rules that involve several fields.
    pub fn check_whole(&self, v: &mut Violations) {
        if self.name.is_empty() && v.is_empty() {
            v.add("customer.name", reason::REQUIRED, "is required");
        }
        if self.kind == "company" && super::names::name_key(&self.name).is_empty() && !self.name.is_empty() {
            v.add(
                "customer.name",
                reason::MALFORMED,
                "must contain letters or digits besides a legal-form suffix",
            );
        }
    }

    /// (field, display value) of every field, in a fixed order, for change diffs.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("kind", self.kind.to_string()),
            ("name", self.name.clone()),
            ("short_name", self.short_name.clone()),
            ("tax_id", self.tax_id.clone()),
            ("industry_code", self.industry_code.clone()),
            ("scale", self.scale.clone()),
            ("website", self.website.clone()),
            ("region.country", self.country.clone()),
            ("region.province", self.province.clone()),
            ("region.city", self.city.clone()),
            ("region.district", self.district.clone()),
            ("address", self.address.clone()),
            ("phone", shown(&self.phone_typed, &self.phone)),
            ("mobile", shown(&self.mobile_typed, &self.mobile)),
            ("email", self.email.clone()),
            ("gender", self.gender.to_string()),
            ("birthday", self.birthday.clone()),
            ("id_number", self.id_number.clone()),
            ("category_id", self.category_id.clone()),
            ("type_code", self.type_code.clone()),
            ("level_code", self.level_code.clone()),
            ("source_code", self.source_code.clone()),
            ("status", self.status.to_string()),
            (
                "credit_limit",
                self.credit_limit
                    .as_ref()
                    .map(|m| format!("{} {}", m.currency, crm_kit::money::to_wire(m.amount)))
                    .unwrap_or_default(),
            ),
            ("remark", self.remark.clone()),
            ("tags", self.tags.join(", ")),
            (
                "custom_fields",
                serde_json::to_string(&self.custom_fields).unwrap_or_default(),
            ),
        ]
    }

    /// The fields that differ between two versions: (field, old, new).
    pub fn diff(old: &CustomerFields, new: &CustomerFields) -> Vec<(&'static str, String, String)> {
        old.pairs()
            .into_iter()
            .zip(new.pairs())
            .filter(|((_, a), (_, b))| a != b)
            .map(|((f, a), (_, b))| (f, a, b))
            .collect()
    }

    /// The dictionary codes this customer uses: (dictionary, wire field, code).
    pub fn dictionary_codes(&self) -> Vec<(&'static str, &'static str, &str)> {
        [
            ("industry", "customer.industry_code", self.industry_code.as_str()),
            ("customer_type", "customer.type_code", self.type_code.as_str()),
            ("level", "customer.level_code", self.level_code.as_str()),
            ("source", "customer.source_code", self.source_code.as_str()),
        ]
        .into_iter()
        .filter(|(_, _, c)| !c.is_empty())
        .collect()
    }
}

/// A number as shown: as typed, or the stored form for a number saved before the typed text
/// was kept.
pub fn shown(typed: &str, normalized: &str) -> String {
    if typed.is_empty() {
        normalized.to_string()
    } else {
        typed.to_string()
    }
}

/// Splits a mask into editable paths, refusing server-owned and unknown ones.
pub fn mask_paths<'a>(paths: &'a [String], v: &mut Violations) -> Vec<&'a str> {
    crm_kit::update::mask_paths(paths, EDITABLE_PATHS, SERVER_OWNED_PATHS, "Customer", v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn company(name: &str) -> pb::Customer {
        pb::Customer {
            kind: pb::CustomerKind::Company as i32,
            name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn create_collects_every_violation() {
        let mut src = company("");
        src.email = "not-an-email".into();
        src.kind = 9;
        let mut v = Violations::new();
        let f = CustomerFields::from_create(&src, PhoneRegion::CN, &mut v);
        f.check_whole(&mut v);
        let err = v.finish().unwrap_err();
        let crm_kit::Error::InvalidArgument(list) = err else {
            panic!("expected invalid argument")
        };
        let fields: Vec<_> = list.iter().map(|x| x.field.as_str()).collect();
        assert!(fields.contains(&"customer.kind"), "{fields:?}");
        assert!(fields.contains(&"customer.name"), "{fields:?}");
        assert!(fields.contains(&"customer.email"), "{fields:?}");
    }

    #[test]
    fn server_owned_paths_are_refused() {
        let mut v = Violations::new();
        let paths = vec!["owner_id".to_string(), "name".to_string(), "bogus".to_string()];
        let ok = mask_paths(&paths, &mut v);
        assert_eq!(ok, ["name"]);
        let crm_kit::Error::InvalidArgument(list) = v.finish().unwrap_err() else {
            panic!()
        };
        assert_eq!(list[0].reason, "SERVER_OWNED");
        assert_eq!(list[1].reason, "UNKNOWN_FIELD");
    }

    #[test]
    fn diff_lists_changed_fields_only() {
        let mut v = Violations::new();
        let a = CustomerFields::from_create(&company("Acme"), PhoneRegion::CN, &mut v);
        let mut b = a.clone();
        b.city = "Shenzhen".into();
        b.tags = vec!["vip".into()];
        let d = CustomerFields::diff(&a, &b);
        assert_eq!(
            d,
            vec![
                ("region.city", String::new(), "Shenzhen".into()),
                ("tags", String::new(), "vip".into())
            ]
        );
    }
}
