//! The names a list shows beside its ids (customer, workspace, flow): read for one page of rows
//! at a time, one primary-key lookup per kind, so a list answers "Globex", not `01a24ad4`.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::http::error::AppResult;
use crate::store::entities::{
    api_tokens, applications, connectors, customers, flows, invitations, roles, users, workspaces,
};

/// Names by id for the rows of one answer.
#[derive(Default)]
pub struct Names {
    customers: HashMap<Uuid, String>,
    workspaces: HashMap<Uuid, String>,
    flows: HashMap<Uuid, String>,
}

impl Names {
    /// Looks up the given ids (duplicates and an empty list cost nothing).
    pub async fn of(
        db: &DatabaseConnection,
        customer_ids: impl IntoIterator<Item = Uuid>,
        workspace_ids: impl IntoIterator<Item = Uuid>,
        flow_ids: impl IntoIterator<Item = Uuid>,
    ) -> AppResult<Self> {
        Ok(Self {
            customers: lookup::<customers::Entity, _>(db, customers::Column::Id, customers::Column::Name, customer_ids)
                .await?,
            workspaces: lookup::<workspaces::Entity, _>(
                db,
                workspaces::Column::Id,
                workspaces::Column::Name,
                workspace_ids,
            )
            .await?,
            flows: lookup::<flows::Entity, _>(db, flows::Column::Id, flows::Column::Name, flow_ids).await?,
        })
    }

    /// The name, or empty when the thing went away between the two reads.
    pub fn customer(&self, id: Uuid) -> String {
        self.customers.get(&id).cloned().unwrap_or_default()
    }

    pub fn workspace(&self, id: Uuid) -> String {
        self.workspaces.get(&id).cloned().unwrap_or_default()
    }

    pub fn flow(&self, id: Uuid) -> String {
        self.flows.get(&id).cloned().unwrap_or_default()
    }
}

/// What an audit event's target is called, by its type: a user or invitation by email, the
/// rest by name. `None` for a type that has no name (a run, a session, a record) or an id
/// that is gone.
pub async fn of_targets(
    db: &DatabaseConnection,
    targets: impl IntoIterator<Item = (String, Uuid)>,
) -> AppResult<HashMap<(String, Uuid), String>> {
    let mut by_type: HashMap<String, Vec<Uuid>> = HashMap::new();
    for (kind, id) in targets {
        by_type.entry(kind).or_default().push(id);
    }
    let mut out = HashMap::new();
    for (kind, ids) in by_type {
        let found = match kind.as_str() {
            "user" => lookup::<users::Entity, _>(db, users::Column::Id, users::Column::Email, ids).await?,
            "invitation" => {
                lookup::<invitations::Entity, _>(db, invitations::Column::Id, invitations::Column::Email, ids).await?
            }
            "flow" => lookup::<flows::Entity, _>(db, flows::Column::Id, flows::Column::Name, ids).await?,
            "role" => lookup::<roles::Entity, _>(db, roles::Column::Id, roles::Column::Name, ids).await?,
            "connector" => {
                lookup::<connectors::Entity, _>(db, connectors::Column::Id, connectors::Column::Name, ids).await?
            }
            "customer" => {
                lookup::<customers::Entity, _>(db, customers::Column::Id, customers::Column::Name, ids).await?
            }
            "workspace" => {
                lookup::<workspaces::Entity, _>(db, workspaces::Column::Id, workspaces::Column::Name, ids).await?
            }
            "application" => {
                lookup::<applications::Entity, _>(db, applications::Column::Id, applications::Column::Name, ids).await?
            }
            "api_token" => {
                lookup::<api_tokens::Entity, _>(db, api_tokens::Column::Id, api_tokens::Column::Name, ids).await?
            }
            _ => continue,
        };
        out.extend(found.into_iter().map(|(id, name)| ((kind.clone(), id), name)));
    }
    Ok(out)
}

async fn lookup<E: EntityTrait, C: ColumnTrait>(
    db: &DatabaseConnection,
    id: C,
    name: C,
    ids: impl IntoIterator<Item = Uuid>,
) -> AppResult<HashMap<Uuid, String>> {
    let ids: BTreeSet<Uuid> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(E::find()
        .select_only()
        .column(id)
        .column(name)
        .filter(id.is_in(ids))
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}
