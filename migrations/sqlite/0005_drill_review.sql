-- The after-action review (振り返り): which scenario a drill played, so runs of the same
-- scenario can be set side by side (PDCA: did the council get faster?). A stable key, the
-- scenario file's stem (e.g. flood-ward), set by the drill runner; NULL for real activations
-- and for drills declared by hand.
ALTER TABLE activations ADD COLUMN scenario TEXT;
CREATE INDEX activations_by_scenario ON activations (scenario, opened_at) WHERE scenario IS NOT NULL;
