//! User accounts: created from the command line (`saigai-vc user add`) or, for the very
//! first admin, by the server at its first start.

use rand::Rng;

use super::Role;
use super::password;
use crate::error::AppError;
use crate::store::{Store, Timestamp, on_pool};

/// What `user add` asks for.
pub struct NewUser<'a> {
    pub username: &'a str,
    pub role: Role,
    pub shelter_id: Option<i64>,
    pub password: &'a str,
}

/// Checks a new user's fields; the same rules the database enforces, said in words.
pub fn validate(user: &NewUser<'_>) -> Result<(), AppError> {
    let name = user.username;
    if name.is_empty()
        || name.chars().count() > 64
        || name.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(AppError::invalid(
            "username",
            "a username is 1 to 64 characters without spaces",
        ));
    }
    match (user.role, user.shelter_id) {
        (Role::ShelterOperator, None) => {
            return Err(AppError::invalid(
                "shelter",
                "a shelter_operator needs --shelter ID: the shelter they run",
            ));
        }
        (role, Some(_)) if role != Role::ShelterOperator => {
            return Err(AppError::invalid(
                "shelter",
                "only a shelter_operator belongs to a shelter",
            ));
        }
        _ => {}
    }
    if user.password.chars().count() < 8 {
        return Err(AppError::invalid(
            "password",
            "a password has at least 8 characters",
        ));
    }
    Ok(())
}

/// Adds a user. The password is hashed here, synchronously: this runs from the command line.
pub async fn add(store: &Store, user: NewUser<'_>) -> Result<i64, AppError> {
    validate(&user)?;
    if let Some(shelter_id) = user.shelter_id {
        let exists: Option<i64> = on_pool!(store, pool => {
            sqlx::query_scalar("SELECT id FROM shelters WHERE id = $1").bind(shelter_id).fetch_optional(pool).await?
        });
        if exists.is_none() {
            return Err(AppError::invalid(
                "shelter",
                format!("no welfare shelter has id {shelter_id}; add it to the registry first"),
            ));
        }
    }
    let hash = password::hash_now(user.password)?;
    let id: Option<i64> = on_pool!(store, pool => {
        sqlx::query_scalar(
            "INSERT INTO users (username, password_hash, role, shelter_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username) DO NOTHING RETURNING id",
        )
        .bind(user.username)
        .bind(&hash)
        .bind(user.role.as_str())
        .bind(user.shelter_id)
        .bind(Timestamp::now())
        .fetch_optional(pool)
        .await?
    });
    id.ok_or_else(|| {
        AppError::conflict(
            "user_exists",
            format!("a user named {} already exists", user.username),
        )
    })
}

/// Sets a user's password and ends their sessions.
pub async fn set_password(
    store: &Store,
    username: &str,
    new_password: &str,
) -> Result<(), AppError> {
    if new_password.chars().count() < 8 {
        return Err(AppError::invalid(
            "password",
            "a password has at least 8 characters",
        ));
    }
    let hash = password::hash_now(new_password)?;
    let updated = crate::store::write_tx!(store, tx => {
        let id: Option<i64> = sqlx::query_scalar("UPDATE users SET password_hash = $1 WHERE username = $2 RETURNING id")
            .bind(&hash)
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(id) = id {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        }
        id.is_some()
    });
    if updated {
        Ok(())
    } else {
        Err(AppError::NotFound("user"))
    }
}

/// On a database with no users at all, creates `admin` with a random password and returns
/// that password, to be shown once. Several instances starting together create it once.
pub async fn ensure_first_admin(store: &Store) -> Result<Option<String>, AppError> {
    let count: i64 = on_pool!(store, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await?);
    if count > 0 {
        return Ok(None);
    }
    let password = random_password();
    match add(
        store,
        NewUser {
            username: "admin",
            role: Role::Admin,
            shelter_id: None,
            password: &password,
        },
    )
    .await
    {
        Ok(_) => Ok(Some(password)),
        Err(AppError::Conflict { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// 16 characters from an alphabet without look-alikes (no 0/O, 1/l/I), easy to read aloud
/// and type on a tablet.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[derive(sqlx::FromRow)]
pub(super) struct LoginRow {
    pub id: i64,
    pub password_hash: String,
    pub role: String,
    pub shelter_id: Option<i64>,
}

pub(super) async fn find_for_login(
    store: &Store,
    username: &str,
) -> Result<Option<LoginRow>, AppError> {
    let row = on_pool!(store, pool => {
        sqlx::query_as("SELECT id, password_hash, role, shelter_id FROM users WHERE username = $1 AND disabled = FALSE")
            .bind(username)
            .fetch_optional(pool)
            .await?
    });
    Ok(row)
}
