package classify

// Explanation tells why a record got its classification, for
// `ingest classify --explain` and for people debugging their rules.
type Explanation struct {
	Result Result `json:"-"`
	// Verdict says why the record is a failure or a success.
	Verdict string `json:"verdict"`
	// Tried lists the rules tried, in precedence order, ending with the
	// one that matched.
	Tried []Attempt `json:"tried,omitempty"`
	// Skipped counts the rules not tried because their status condition
	// excludes the record's status.
	Skipped int `json:"skipped,omitempty"`
	// Matched lists the parts of the winning rule that held.
	Matched []string `json:"matched,omitempty"`
}

// Attempt is one rule tried on a record.
type Attempt struct {
	RuleID  string `json:"rule_id"`
	Pos     string `json:"pos"`
	Matched bool   `json:"matched"`
	// Why is the first part of the rule's condition that did not hold.
	Why string `json:"why,omitempty"`
}

// Explain classifies rec like Classify and returns the rules tried, in
// order, and why the winner matched. It is slow and meant for people.
func (c *Classifier) Explain(rec []byte) (Explanation, error) {
	x := c.pool.Get().(*scratch)
	defer c.pool.Put(x)
	var ex Explanation
	o, err := c.run(x, rec, &ex)
	if err != nil {
		return Explanation{}, err
	}
	ex.Result = c.result(x, o)
	return ex, nil
}
