//! `serve --demo`: something to try the screens with on a fresh machine. An open drill
//! activation (デモ訓練) with a first announcement, and, when the shelter registry is empty,
//! three fictitious welfare shelters of which two are open in the drill. Made once; running
//! with `--demo` again changes nothing. Never used for a real activation.

use crate::activations::{self, Kind, NewActivation};
use crate::events::Actor;
use crate::shelters::{self, ShelterFields, openings};
use crate::store::Store;

pub const DRILL_NAME: &str = "デモ訓練 (demo drill)";

fn codes(list: &[&str]) -> Vec<String> {
    list.iter().map(|c| c.to_string()).collect()
}

/// Fictitious facilities around one ward, with coordinates so distances mean something.
fn demo_shelters() -> Vec<(ShelterFields, bool)> {
    let shelter = |name: &str, address: &str, lat: f64, lon: f64, capacity: i64| ShelterFields {
        name: name.into(),
        address: address.into(),
        latitude: Some(lat),
        longitude: Some(lon),
        capacity,
        categories: Vec::new(),
        facilities: Vec::new(),
        contact: "045-000-0000（デモ）".into(),
        notes: "デモ用の架空の施設です".into(),
    };
    vec![
        (
            ShelterFields {
                categories: codes(&["elderly", "dementia", "physical_disability"]),
                facilities: codes(&["wheelchair_access", "accessible_toilet", "care_beds"]),
                ..shelter(
                    "デモ地域ケアプラザ",
                    "デモ市中央区1-1",
                    35.5200,
                    139.6300,
                    20,
                )
            },
            true,
        ),
        (
            ShelterFields {
                categories: codes(&["elderly", "medical_care"]),
                facilities: codes(&["oxygen", "generator", "nursing_staff", "elevator"]),
                ..shelter(
                    "デモ特別養護老人ホームさくら苑",
                    "デモ市北区2-2",
                    35.5400,
                    139.6200,
                    10,
                )
            },
            true,
        ),
        (
            ShelterFields {
                categories: codes(&["pregnant_infant", "intellectual_mental_disability"]),
                facilities: codes(&["accessible_toilet"]),
                ..shelter("デモ福祉センター", "デモ市南区3-3", 35.5000, 139.6400, 15)
            },
            false,
        ),
    ]
}

/// Creates the demo drill (and shelters) unless they exist.
pub async fn ensure(store: &Store) -> anyhow::Result<()> {
    let existing = activations::list_all(store).await?;
    if existing
        .iter()
        .any(|a| a.name == DRILL_NAME && a.status == "open")
    {
        return Ok(());
    }
    let system = Actor {
        user_id: None,
        name: "system".into(),
    };
    let (activation, _) = activations::open(
        store,
        NewActivation {
            name: DRILL_NAME.into(),
            kind: Kind::Drill,
        },
        &system,
    )
    .await?;
    activations::announcements::post_one(
        store,
        activation.id,
        "デモ訓練を開始しました。これは訓練です。/ The demo drill has started. This is a drill.",
        &system,
    )
    .await?;
    if shelters::list(store).await?.is_empty() {
        for (fields, open) in demo_shelters() {
            let shelter = shelters::create(store, fields).await?;
            if open {
                openings::open_as(store, &system, activation.id, shelter.id, None).await?;
            }
        }
    }
    Ok(())
}
