//! The schema of a record kind as queries see it: fields and their types, roles and default
//! text fields.

use crate::records::Role;

/// The type of a field, which gives a query value its meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// An identifier or address: the whole value, case-insensitive.
    Keyword,
    /// One of a small set of values (severity, status): the whole value, case-insensitive.
    Enum,
    /// Prose (subject, title): unquoted values match words in any order, quoted values phrases.
    Text,
    /// A whole number.
    Integer,
    /// A decimal number.
    Float,
    /// `true` or `false`.
    Boolean,
    /// An instant.
    Date,
}

impl FieldType {
    /// Returns true for the types that take range operators.
    pub fn is_ordered(self) -> bool {
        matches!(self, FieldType::Integer | FieldType::Float | FieldType::Date)
    }
}

/// The place in a record where the evaluator finds a field's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldSource {
    /// A model field, in `Record::fields` under the field's schema name.
    Model,
    /// A source column that no model field took, in `Record::extra` under its own name.
    Column,
}

/// One queryable field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDef {
    /// The schema name (`delivery_action`), or the column name for a source column.
    pub name: String,
    /// The value type.
    pub ty: FieldType,
    /// Other names that select this field, such as export column names (`DeliveryAction`).
    pub aliases: Vec<String>,
    /// Location of the value in the record.
    pub source: FieldSource,
}

impl FieldDef {
    /// Creates a model field.
    pub fn model(name: &str, ty: FieldType, aliases: &[&str]) -> FieldDef {
        FieldDef {
            name: name.to_string(),
            ty,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            source: FieldSource::Model,
        }
    }

    /// Creates a field for a source column that no model field took; it is a keyword.
    pub fn column(name: &str) -> FieldDef {
        FieldDef {
            name: name.to_string(),
            ty: FieldType::Keyword,
            aliases: Vec::new(),
            source: FieldSource::Column,
        }
    }

    /// Returns true when `name` names this field, ignoring case.
    pub fn is_named(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

/// The attributes of a referenced user that `<role>.<field>` and scopes can test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UserField {
    /// Any mail address of the user (primary, aliases, UPN) or the address as exported:
    /// `recipient:user1@contoso.test`.
    Address,
    /// The user principal name from the directory.
    Upn,
    /// The display name, from the directory or the export.
    Name,
    /// The department from the directory.
    Department,
    /// The domain part of the address as exported (`sender.domain`).
    Domain,
    /// The Entra object id.
    ObjectId,
    /// `member` or `guest`, from the directory.
    UserType,
}

impl UserField {
    /// All user fields with their query names.
    pub const ALL: [(&'static str, UserField); 7] = [
        ("address", UserField::Address),
        ("upn", UserField::Upn),
        ("name", UserField::Name),
        ("department", UserField::Department),
        ("domain", UserField::Domain),
        ("object_id", UserField::ObjectId),
        ("user_type", UserField::UserType),
    ];

    /// Looks a user field up by query name, ignoring case.
    pub fn parse(name: &str) -> Option<UserField> {
        Self::ALL.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, f)| *f)
    }

    /// Returns true for attributes compared as addresses, with `text::fold_address`.
    pub fn is_address(self) -> bool {
        matches!(
            self,
            UserField::Address | UserField::Upn | UserField::Domain | UserField::ObjectId
        )
    }

    /// Returns the value type.
    pub fn ty(self) -> FieldType {
        match self {
            UserField::Name | UserField::Department => FieldType::Text,
            UserField::UserType => FieldType::Enum,
            _ => FieldType::Keyword,
        }
    }
}

/// The queryable fields, roles and default text fields of one record kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schema {
    /// Kind name for messages (`email`).
    pub kind_name: String,
    /// Queryable fields: model fields first, then source columns.
    pub fields: Vec<FieldDef>,
    /// Roles of the kind, in display order.
    pub roles: Vec<Role>,
    /// Schema names of the fields that free text searches.
    pub default_text: Vec<String>,
}

impl Schema {
    /// Looks a field up by schema name or alias, ignoring case.
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .or_else(|| self.fields.iter().find(|f| f.is_named(name)))
    }

    /// Adds source columns that are not already fields (by name or alias).
    pub fn add_columns<'a>(&mut self, columns: impl IntoIterator<Item = &'a str>) {
        for column in columns {
            if self.field(column).is_none() {
                self.fields.push(FieldDef::column(column));
            }
        }
    }
}
