// Package report computes and renders the weekly error report of
// sdtriage: what broke in a period, whose side must act, what changed
// since the period before, and what to fix first.
//
// # Periods
//
// A report covers a Period [From, To) in a time zone: an ISO week (Week,
// LastCompleteWeek) or any range (Range). It is compared with
// Period.Previous, the period of the same length just before (the previous
// ISO week; the same number of calendar days for whole days, so daylight
// saving time does not shift midnight). The trend is hourly for periods of
// two days or less and daily otherwise, in the period's time zone.
//
// # Sources
//
// Both sources fill the same per-period tally, and one function builds the
// Report from two tallies, so they agree by construction but for counting;
// an integration test checks that they give identical JSON (but for "source") for the
// same documents.
//
// Elasticsearch.Report reads the daily indices <prefix>-* with
// aggregations only (filters, terms, date_range, composite, top_hits):
// one request for totals, categories, reasons, remediation hints and the
// trend, one paged composite aggregation per breakdown, one for error
// messages and one for the failures without a message. Only successes
// and failures that were indexed count as calls (event.outcome).
//
// FromNDJSON reads the output documents `ingest classify` writes, one
// JSON object a line, and counts them the way Elasticsearch aggregates
// them (for example a keyword longer than the template's ignore_above of
// 1024 characters counts as missing).
//
// The cost of the breakdowns grows with the number of distinct
// combinations of provider, service, API key, url.domain and url.path:
// paths that carry ids (a prediction id per call) make it grow with the
// number of calls. Ids are folded into {id} client-side, as Elasticsearch
// cannot do it without scripts; MaxKeys bounds the work, with a note.
//
// # Message templates and their accuracy
//
// Messages are templated client-side (MessageTemplate): ids, numbers,
// hosts, addresses, hashes, UUIDs, timestamps and masked secrets become
// placeholders such as <n>, <host>, <uuid> and <secret>.
//
// A failure's message is its error.message (the client-side error text).
// Those are counted exactly: a composite aggregation on error.message.keyword
// reads every distinct message with its count, and templating merges them.
// The cost grows with the number of distinct messages, not of failures;
// Elasticsearch.MaxKeys (default 200,000 per period pair) bounds it, and
// past it templates.coverage drops below 1 and a note says so.
//
// Most failures carry no error.message but a provider response body,
// which the index stores as text (not aggregatable). Those are grouped by
// provider, HTTP status, category, reason and rule id (exact counts), and
// each group is named by the message of its most recent failure, fetched
// as a one-document top_hits sample per group and period: "HTTP 429: Rate
// limit reached for gpt-image-<n> ...". This is the trade-off: the counts
// are exact, but a group whose failures carry different wordings (same
// provider, status and rule) shows only the latest one; fetching more
// samples would not give exact counts per wording either, only more
// documents. Files are read the same way so that both sources agree.
//
// # JSON
//
// JSON is the Report struct, schema_version 1 (SchemaVersion; a new
// version only when a key is removed or changes meaning). Times are RFC
// 3339 in the report's time zone; shares, rates and changes are fractions
// rounded to four decimals (0.125 is 12.5%); a change is relative,
// (now - before) / before, and null when before was 0; failure_rate is
// null when the period holds no indexed success.
//
//	schema_version  1
//	source          "elasticsearch <prefix>-*" or "file <name>"
//	generated_at    when the report was made
//	period          {label, from, to (exclusive), time_zone, granularity: "day"|"hour"}
//	previous_period {label, from, to, time_zone}
//	totals          {calls, failures, successes, failure_rate, retryable_share,
//	                 previous_calls, previous_failures, previous_failure_rate,
//	                 calls_change, failures_change, failure_rate_change}
//	categories      [{category, count, previous_count, share, change, retryable_share,
//	                  reasons: [{reason, count, previous_count, share, change, retryable_share}]}]
//	                 largest first; share is of all failures of the period
//	breakdowns      [{dimension: provider|service|endpoint|api_key_id, keys, other_failures,
//	                  rows: [{key, calls, failures, failure_rate, share, previous_failures,
//	                          change, categories: {category: failures}}]}]
//	                 top rows by failures; a missing field is the key "(none)"; an endpoint
//	                 is url.domain + url.path with id segments as {id}, {n}, {uuid}, {hex}
//	trend           {granularity, categories: [auth, network, payload, server, unknown],
//	                 buckets: [{start, total, counts: [per category, in that order]}]}
//	templates       {distinct, coverage, top: [{template, category, reason, count,
//	                  previous_count, share, change, new, example}]}
//	new             {compared, reasons: [{key: "category/reason", count}],
//	                 providers: [{key, count}], templates: [{template, category, reason, count}]}
//	                 what had no failure in the previous period; compared is false (and the
//	                 lists empty) when the previous period holds no call
//	checklist       [{remediation, count, share, reasons: [{category, reason, count}]}]
//	                 every remediation hint of the period, most failures first
//	unknown         {count, share, templates: [{template, count, example, suggested_contains}]}
//	                 failures no rule matched, as candidates for new rules
//	notes           ["..."] approximations and missing data worth knowing
//
// # CSV
//
// CSV is one long table with the columns section, key, category, reason,
// count, previous_count, share, change, retryable_share, calls,
// failure_rate, example; the sections are period, previous_period, totals,
// category, reason, provider, service, endpoint, api_key_id, trend,
// template, checklist, new_reason, new_provider, new_template and
// unknown_template. Values are as in the JSON; in breakdown rows, category
// is the category with most failures and count the failures.
package report
