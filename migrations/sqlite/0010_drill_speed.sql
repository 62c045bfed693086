-- The speed a drill was played at (drill seconds per real second, e.g. 24 for a day in an
-- hour), so the after-action review can say that its times are real (wall-clock) times and
-- what they are in the drill's own time. NULL for a real activation or a drill opened by hand.
ALTER TABLE activations ADD COLUMN speed REAL;
