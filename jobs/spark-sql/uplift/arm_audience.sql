-- The rows an uplift model learns from: the control group and the contacted customers of one
-- treatment arm (:arm), or of every arm pooled when :arm is empty. The arms of a campaign share its
-- control group; a contacted row without an arm is in the arm "treatment".
SELECT * FROM audience
WHERE test_group = 'control' OR :arm = '' OR coalesce(arm, 'treatment') = :arm
