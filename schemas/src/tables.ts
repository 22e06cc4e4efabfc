/**
 * Every table sparkjobs reads or writes. Inputs are checked before Spark starts (Parquet footers)
 * and again by the runner (DataFrame schemas); outputs are checked by the runner before they are
 * written and by the submitter after they are read back.
 */
import { z } from "zod";
import { col, table } from "./columns.js";

export const SEGMENT_NAMES = ["high-value", "loyal", "potential", "churning"] as const;
/** A word of a team's own vocabulary: campaign types, channels, treatment arms (lower case, digits, _ and -). */
export const VOCABULARY_WORD = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const word = (description: string) => col.matching(VOCABULARY_WORD, `${description} (a word of your vocabulary: lower case letters, digits, _ and -)`);
const campaignType = (description = "the kind of offer, e.g. coupon, new_product, loyalty") => word(description);
const channel = (description = "how the customer was contacted, e.g. email, sms, push, social") => word(description);
const segmentName = col.matching(
  /^((high-value|loyal|potential|churning)(-[0-9]+)?|segment-[0-9]+|unsegmented)$/,
  "business name of the segment (a suffix -2, -3 when k > 4), segment-1, segment-2, ... when numbered, unsegmented without a segmentation",
);

// ---------------------------------------------------------------- inputs

export const transactions = table(
  "transactions",
  { description: "One row per order line; order-level fields (customer, time, payment, status) repeat on each line.", primaryKey: ["order_id", "line_no"] },
  {
    order_id: col.string("order (invoice) number"),
    line_no: col.int("position of the line within the order"),
    customer_id: col.string("customer; null for guest checkouts").nullable(),
    order_ts: col.timestamp("when the order was placed (UTC)"),
    product_id: col.string("product (stock code)").nullable(),
    category: col.string("product category").nullable(),
    quantity: col.int("units; negative on cancellations and returns"),
    unit_price: col.double("price of one unit in the order currency"),
    payment_method: col.string("card, paypal, voucher, invoice, ...").nullable(),
    region: col.string("shipping region or country").nullable(),
    status: col.oneOf(["completed", "cancelled", "returned"], "order status"),
  },
);

export const products = table(
  "products",
  { description: "Product catalogue.", primaryKey: ["product_id"] },
  {
    product_id: col.string(),
    category: col.string(),
    name: col.string().nullable(),
    list_price: col.nonNegativeDouble(),
  },
);

export const events = table(
  "events",
  { description: "Behaviour events from web and app sessions.", primaryKey: ["event_id"] },
  {
    event_id: col.string(),
    customer_id: col.string("null for anonymous sessions").nullable(),
    session_id: col.string(),
    event_ts: col.timestamp(),
    event_type: col.oneOf(["view", "search", "cart", "favourite"]),
    product_id: col.string("null for searches").nullable(),
    query: col.string("search text; null for other events").nullable(),
  },
);

export const customers = table(
  "customers",
  { description: "Customer attributes.", primaryKey: ["customer_id"] },
  {
    customer_id: col.string(),
    signup_date: col.date("null when the source does not say").nullable(),
    age: col.int().nullable(),
    gender: col.oneOf(["female", "male", "other"]).nullable(),
    region: col.string().nullable(),
    occupation: col.string().nullable(),
  },
);

export const campaigns = table(
  "campaigns",
  { description: "Campaign exposures, one row per customer contacted (or held out), with the response.", primaryKey: ["exposure_id"] },
  {
    exposure_id: col.string(),
    campaign_id: col.string(),
    campaign_type: campaignType(),
    channel: channel(),
    customer_id: col.string(),
    exposed_ts: col.timestamp(),
    test_group: col.oneOf(["treatment", "control"], "control rows were held out and not contacted"),
    arm: word("the treatment arm of a campaign with several, all compared with its one control group; null for control rows and single-arm campaigns").nullable(),
    responded: col.boolean(),
    response_ts: col.timestamp().nullable(),
    revenue: col.nonNegativeDouble("attributed revenue of the response").nullable(),
  },
);

export const truthSegments = table(
  "truth_segments",
  { description: "Generator only: the planted segment of every customer, kept apart from the inputs.", primaryKey: ["customer_id"] },
  {
    customer_id: col.string(),
    true_segment: col.oneOf(SEGMENT_NAMES),
  },
);

export const offerTruth = table(
  "offer_truth",
  {
    description: "Generator only: the planted probability of responding to each campaign type on each channel, without contact (control) and with it.",
    primaryKey: ["customer_id", "campaign_type", "channel"],
  },
  {
    customer_id: col.string(),
    campaign_type: campaignType(),
    channel: channel(),
    p_control: col.fraction("probability of buying anyway, when held out"),
    p_treatment: col.fraction("probability of responding when contacted"),
  },
);

// ---------------------------------------------------------------- outputs

export const cleanTransactions = transactions.extend({}).meta({
  title: "clean_transactions",
  description: "Transactions that passed every cleaning rule.",
  primaryKey: ["order_id", "line_no"],
});

export const customerFeatures = table(
  "customer_features",
  { description: "One row per customer with at least one clean purchase.", primaryKey: ["customer_id"] },
  {
    customer_id: col.string(),
    recency_days: col.nonNegativeInt("days from the last order to the snapshot date"),
    frequency: col.nonNegativeInt("distinct orders"),
    monetary: col.double("net spend"),
    avg_order_value: col.double("monetary / frequency"),
    tenure_days: col.nonNegativeInt("days from the first order to the snapshot date"),
    n_categories: col.nonNegativeInt("distinct categories bought"),
    top_category: col.string("category with the highest spend").nullable(),
    top_category_share: col.fraction("share of spend in the top category"),
    views: col.count(),
    searches: col.count(),
    carts: col.count(),
    favourites: col.count(),
    view_to_purchase: col.nonNegativeDouble("orders per viewed product; null without views").nullable(),
    snapshot_date: col.date(),
  },
);

export const customerSegments = table(
  "customer_segments",
  { description: "The segment of every customer.", primaryKey: ["customer_id"] },
  {
    customer_id: col.string(),
    cluster: col.nonNegativeInt("K-Means cluster index"),
    segment: segmentName,
    distance: col.nonNegativeDouble("Euclidean distance to the cluster centre in the scaled feature space"),
    recency_days: col.nonNegativeInt(),
    frequency: col.nonNegativeInt(),
    monetary: col.double(),
  },
);

export const segmentProfiles = table(
  "segment_profiles",
  { description: "One row per segment: size and average features in original units.", primaryKey: ["cluster"] },
  {
    cluster: col.nonNegativeInt(),
    segment: segmentName,
    customers: col.count(),
    share: col.fraction("share of customers"),
    avg_recency_days: col.nonNegativeDouble(),
    avg_frequency: col.nonNegativeDouble(),
    avg_monetary: col.double(),
    avg_order_value: col.double(),
    avg_tenure_days: col.nonNegativeDouble(),
    revenue: col.double(),
    revenue_share: col.double(),
  },
);

/** The columns of an exposure a model scored: who, which offer, the segment and the side of the split. */
const scoredExposure = {
  exposure_id: col.string(),
  customer_id: col.string(),
  campaign_id: col.string(),
  campaign_type: campaignType(),
  channel: channel(),
  segment: segmentName,
  split: col.oneOf(["train", "test"], "test rows were held out of fitting"),
};

export const responseScores = table(
  "response_scores",
  { description: "Every contacted exposure with its split and each model's predicted response probability.", primaryKey: ["exposure_id"] },
  {
    ...scoredExposure,
    label: col.oneOf01("1 when the customer responded"),
    p_gbt: col.fraction("gradient-boosted trees"),
    p_logistic: col.fraction("logistic regression"),
  },
);

export const modelMetrics = table(
  "model_metrics",
  { description: "Held-out metrics of each model, overall and per group (segment, campaign type).", primaryKey: ["model", "scope", "scope_value"] },
  {
    model: col.string(),
    scope: col.string("overall, or the column the rows are grouped by"),
    scope_value: col.string("the group's value; 'all' for overall"),
    rows: col.count("test rows"),
    positives: col.count("test rows with label 1"),
    auc: col.fraction("area under the ROC curve; null when the rows hold one class only").nullable(),
    pr_auc: col.fraction("area under the precision-recall curve; null when undefined").nullable(),
    lift_top_decile: col.nonNegativeDouble("response rate of the 10% highest scored over the rate of all; null without positives").nullable(),
    oracle_auc: col.fraction("AUC of the planted true probabilities on the same rows (generated data only)").nullable(),
    note: col.string("why a metric is null").nullable(),
  },
);

export const responseCalibration = table(
  "response_calibration",
  { description: "Calibration on the held-out rows: equal-count bins of predicted probability against the observed rate.", primaryKey: ["model", "bin"] },
  {
    model: col.string(),
    bin: col.nonNegativeInt("0 = lowest predictions"),
    rows: col.count(),
    mean_predicted: col.fraction(),
    observed_rate: col.fraction(),
  },
);

export const featureImportance = table(
  "feature_importance",
  { description: "Importance of each input column per model: GBT split gain; logistic |coefficient| x the column's standard deviation. One-hot slots add up to their column.", primaryKey: ["model", "feature"] },
  {
    model: col.string(),
    feature: col.string(),
    importance: col.nonNegativeDouble("normalised to sum to 1 per model"),
    rank: col.nonNegativeInt("1 = most important"),
  },
);

export const offerScores = table(
  "offer_scores",
  {
    description: "Predicted response probability of every customer for every campaign type on every channel, from saved models; with the uplift when an uplift run's two models scored it.",
    primaryKey: ["customer_id", "campaign_type", "channel"],
  },
  {
    customer_id: col.string(),
    campaign_type: campaignType(),
    channel: channel(),
    segment: segmentName,
    p_response: col.fraction("probability of responding when contacted"),
    p_control: col.fraction("probability of buying anyway, without contact (score-uplift only)").nullable(),
    uplift: col.double("p_response - p_control: the response the contact causes (score-uplift only)").nullable(),
  },
);

export const upliftScores = table(
  "uplift_scores",
  { description: "Every exposure (contacted or held out) with its split and the two-model uplift estimate.", primaryKey: ["exposure_id"] },
  {
    ...scoredExposure,
    test_group: col.oneOf(["treatment", "control"]),
    label: col.oneOf01("1 when the customer responded"),
    p_treatment: col.fraction("predicted response when contacted"),
    p_control: col.fraction("predicted response when not contacted"),
    uplift: col.double("p_treatment - p_control"),
  },
);

export const targetList = table(
  "target_list",
  { description: "Whom to contact for one campaign type and on which channel: the most expected profit within the budget.", primaryKey: ["customer_id"] },
  {
    customer_id: col.string(),
    segment: segmentName,
    campaign_type: campaignType(),
    channel: channel("the channel with the highest expected profit for this customer"),
    p_response: col.fraction("predicted response probability"),
    uplift: col.double("predicted uplift; null when the scores have none").nullable(),
    expected_revenue: col.double("the basis (p_response, or uplift) x revenue per response"),
    cost: col.nonNegativeDouble("contact cost"),
    expected_profit: col.double("expected_revenue x margin - cost; always above 0"),
    rank: col.nonNegativeInt("1 = the highest expected profit"),
  },
);

export const recommendations = table(
  "recommendations",
  { description: "The top products for each customer, from ALS on implicit feedback.", primaryKey: ["customer_id", "rank"] },
  {
    customer_id: col.string(),
    rank: col.nonNegativeInt("1 = the strongest recommendation"),
    product_id: col.string(),
    score: col.double("ALS preference score (not a probability)"),
  },
);

export const segmentMap = table(
  "segment_map",
  { description: "Every customer on the first two principal components of the standardised features, with the segment: a 2-D map of the segments.", primaryKey: ["customer_id"] },
  {
    customer_id: col.string(),
    segment: segmentName,
    pc1: col.double("first principal component"),
    pc2: col.double("second principal component"),
  },
);

export const campaignKpis = table(
  "campaign_kpis",
  { description: "KPIs of the contacted (treatment) exposures by campaign, campaign type, channel and segment, and overall.", primaryKey: ["scope", "scope_value"] },
  {
    scope: col.oneOf(["campaign", "campaign_type", "channel", "segment", "overall"]),
    scope_value: col.string(),
    contacted: col.count(),
    responders: col.count(),
    conversion_rate: col.fraction("responders / contacted"),
    revenue: col.nonNegativeDouble("revenue attributed to the responses"),
    cost: col.nonNegativeDouble("contact cost (per-channel cost parameters)"),
    cac: col.nonNegativeDouble("cost per responder; null without responders").nullable(),
    revenue_per_responder: col.nonNegativeDouble().nullable(),
    responder_value: col.double("average spend so far (monetary) of the responders; null when none has features").nullable(),
    roi: col.double("(revenue x margin - cost) / cost; null when nothing was spent").nullable(),
  },
);

export const abTests = table(
  "ab_tests",
  { description: "One A/B test per campaign and treatment arm: contacted against held-out response rates (the arms of a campaign share its control group).", primaryKey: ["campaign_id", "arm"] },
  {
    campaign_id: col.string(),
    campaign_type: campaignType(),
    arm: word("the treatment arm; 'treatment' for a campaign with one"),
    treatment_rows: col.count(),
    control_rows: col.count(),
    treatment_rate: col.fraction().nullable(),
    control_rate: col.fraction().nullable(),
    lift: col.double("treatment rate - control rate").nullable(),
    relative_lift: col.double("lift / control rate").nullable(),
    ci_low: col.double("95% confidence interval of the lift (Wald)").nullable(),
    ci_high: col.double().nullable(),
    z: col.double("pooled two-proportion z statistic").nullable(),
    p_value: col.fraction("two-sided").nullable(),
    significant: col.boolean("p_value below 1 - confidence"),
    note: col.string("why a value is null").nullable(),
  },
);

export const copurchaseTruth = table(
  "copurchase_truth",
  { description: "Generator only: the planted co-purchase pairs (product_a and product_b are bought together).", primaryKey: ["pair"] },
  { pair: col.nonNegativeInt(), product_a: col.string(), product_b: col.string() },
);

export const nextPeriodSpend = table(
  "next_period_spend",
  { description: "Generator only: each customer's planted orders and spend in the period after the generated history.", primaryKey: ["customer_id"] },
  {
    customer_id: col.string(),
    after: col.date("the period starts the day after this one (the generator's as_of)"),
    days: col.nonNegativeInt("length of the period"),
    orders: col.nonNegativeInt(),
    spend: col.nonNegativeDouble("spend in the period"),
    expected_spend: col.nonNegativeDouble("generator only: the planted mean of spend, the best possible prediction").nullable(),
  },
);

export const basketRules = table(
  "basket_rules",
  { description: "Association rules between the products of one basket (FP-Growth), strongest lift first.", primaryKey: ["antecedent", "consequent"] },
  {
    rank: col.nonNegativeInt("1 = the highest lift"),
    antecedent: col.string("the items bought (sorted, joined with ' + ')"),
    consequent: col.string("the item also bought"),
    antecedent_items: col.nonNegativeInt(),
    baskets: col.count("baskets holding the antecedent and the consequent"),
    support: col.fraction("baskets / all baskets"),
    confidence: col.fraction("share of the antecedent's baskets that hold the consequent"),
    lift: col.nonNegativeDouble("confidence / the consequent's support"),
  },
);

export const clvScores = table(
  "clv_scores",
  { description: "Predicted next-period spend of every customer with the naive baseline, the label and the split.", primaryKey: ["customer_id"] },
  {
    customer_id: col.string(),
    segment: segmentName,
    split: col.oneOf(["train", "test"]),
    spend: col.nonNegativeDouble("the observed next-period spend (the label)"),
    predicted_spend: col.double("the GBT model's prediction"),
    baseline_spend: col.nonNegativeDouble("the naive prediction: past spend per day x the period's days"),
  },
);

export const regressionMetrics = table(
  "regression_metrics",
  { description: "Held-out error of each regression model and the baseline, overall and per group.", primaryKey: ["model", "scope", "scope_value"] },
  {
    model: col.string("a model name, 'baseline', or 'oracle' (the planted mean, generated data only)"),
    scope: col.string(),
    scope_value: col.string(),
    rows: col.count("test rows"),
    rmse: col.nonNegativeDouble(),
    mae: col.nonNegativeDouble(),
    mean_label: col.double(),
    mean_prediction: col.double(),
  },
);

export const quarantine = table(
  "quarantine",
  { description: "Rows ingest rejected: the canonical table, the first rule the row broke, and the row as the source had it." },
  {
    table: col.oneOf(["transactions", "products", "events", "customers", "campaigns"], "the canonical table the row was meant for"),
    rule: col.oneOf(["malformed", "cast_failed", "missing_value", "not_allowed", "duplicate_key"], "the first rule the row broke"),
    column: col.string("the canonical column that broke the rule; null for malformed rows").nullable(),
    value: col.string("the value as the source expression gave it, before the cast; null when there was none").nullable(),
    source_file: col.string("the file the row was read from; null for catalog tables").nullable(),
    line: col.string("malformed rows: the text of the line as read").nullable(),
    line_number: col.count("malformed rows of CSV and JSON-lines files: the line's number in its file (1 = the first line, a CSV header included); null where the record is not one line of the file (multi-line CSV) or its text is not found as read (another encoding)").nullable(),
    source_row: col.string("the source row as JSON (its columns as read)"),
  },
);

/** Every table by the name job definitions use in `schema:`. */
export const tables = {
  transactions,
  products,
  events,
  customers,
  campaigns,
  truth_segments: truthSegments,
  offer_truth: offerTruth,
  clean_transactions: cleanTransactions,
  customer_features: customerFeatures,
  customer_segments: customerSegments,
  segment_profiles: segmentProfiles,
  response_scores: responseScores,
  model_metrics: modelMetrics,
  response_calibration: responseCalibration,
  feature_importance: featureImportance,
  offer_scores: offerScores,
  uplift_scores: upliftScores,
  target_list: targetList,
  recommendations,
  segment_map: segmentMap,
  campaign_kpis: campaignKpis,
  ab_tests: abTests,
  copurchase_truth: copurchaseTruth,
  next_period_spend: nextPeriodSpend,
  basket_rules: basketRules,
  clv_scores: clvScores,
  regression_metrics: regressionMetrics,
  quarantine,
} as const;

export type TableName = keyof typeof tables;
export const TABLE_NAMES = Object.keys(tables) as TableName[];

export type Transaction = z.infer<typeof transactions>;
export type CustomerSegment = z.infer<typeof customerSegments>;
export type SegmentProfile = z.infer<typeof segmentProfiles>;
