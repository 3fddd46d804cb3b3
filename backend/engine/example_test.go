package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/lode-logs/lode/backend/engine"
	"github.com/lode-logs/lode/backend/engine/enginetest"
	"github.com/lode-logs/lode/backend/model"
)

func Example() {
	q := enginetest.New()
	t0 := time.Unix(1700000000, 0)
	_ = q.Push("fake", `{app="api"}`,
		model.Entry{Timestamp: t0.Add(time.Second).UnixNano(), Line: []byte(`level=info msg=ok`)},
		model.Entry{Timestamp: t0.Add(2 * time.Second).UnixNano(), Line: []byte(`level=error msg=boom`)},
	)
	eng := engine.New(q, engine.Options{})
	res, err := eng.Query(context.Background(), engine.Params{
		Tenant: "fake",
		Query:  `{app="api"} | logfmt | level="error"`,
		Start:  t0,
		End:    t0.Add(time.Minute),
		Limit:  100,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	res.Stats = engine.Result{}.Stats // execution times vary
	out := res.AppendJSON(nil)
	fmt.Println(string(out[:bytes.Index(out, []byte(`,"stats"`))]))
	// Output: {"status":"success","data":{"resultType":"streams","result":[{"stream":{"app":"api","level":"error","msg":"boom"},"values":[["1700000002000000000","level=error msg=boom"]]}]
}
