//! The integration suite: one binary, every test run against the real server on SQLite and
//! again on PostgreSQL (see `helpers`).

mod helpers;

/// Declares each listed `async fn(TestApp)` as two tests, `sqlite::NAME` and `postgres::NAME`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = crate::helpers::TestApp::spawn(crate::helpers::Backend::Sqlite).await.expect("sqlite");
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = crate::helpers::TestApp::spawn(crate::helpers::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}
pub(crate) use on_both_backends;

mod access;
mod activations;
mod auth;
mod board;
mod browser;
mod cli;
mod crash;
mod dispatch;
mod drill_control;
mod drills;
mod instances;
mod register;
mod reliability;
mod review;
mod shelters;
