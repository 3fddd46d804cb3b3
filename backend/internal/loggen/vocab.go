package loggen

// Vocabularies. Keep the order of every list: the corpus depends on it.

var namespaces = []string{"prod", "staging", "payments", "checkout", "identity", "search", "monitoring", "kube-system", "ingress-nginx", "data"}

var apps = []string{
	"api-gateway", "checkout", "cart", "catalog", "payments", "orders", "users", "auth",
	"search", "recommendations", "inventory", "shipping", "notifications", "billing",
	"frontend", "ledger", "fraud-detector", "session-store", "image-resizer", "scheduler",
}

var levelNames = []string{"debug", "info", "warn", "error"}

var httpMethods = newWeighted([]string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"},
	[]int{176, 48, 12, 8, 6, 4, 2})

var httpStatuses = newWeighted([]int{200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 409, 429, 499, 500, 502, 503, 504},
	[]int{180, 10, 8, 2, 4, 10, 6, 4, 2, 12, 2, 3, 2, 4, 3, 2, 2})

// routes are request paths (templates: %d an id, %p a page, %x 8 hex digits, %w a
// search word) with their typical response size and traffic weight.
var routes = newWeighted([]route{
	{"/api/v1/users/%d", 1840, false}, {"/api/v1/users/%d/orders", 5210, false},
	{"/api/v1/orders/%d", 2305, false}, {"/api/v1/orders/%d/items", 7730, false},
	{"/api/v2/catalog/products/%d", 11250, false}, {"/api/v2/catalog/search?q=%w&page=%p", 24100, false},
	{"/api/v1/cart/%x", 3120, false}, {"/api/v1/payments/%x/capture", 412, false},
	{"/healthz", 2, true}, {"/readyz", 2, true}, {"/metrics", 48213, false},
	{"/login", 5876, true}, {"/logout", 0, true},
	{"/static/js/main.%x.js", 412733, true}, {"/static/css/app.%x.css", 38120, true},
	{"/images/products/%d/thumb.webp", 18342, false}, {"/api/v1/inventory/sku-%d", 730, false},
	{"/api/v1/shipping/quote", 960, false}, {"/graphql", 3380, false}, {"/api/v1/sessions/%x", 220, false},
	{"/favicon.ico", 15086, true}, {"/robots.txt", 68, true}, {"/api/v1/recommendations?user=%d&limit=20", 9420, false},
}, []int{
	24, 10,
	18, 8,
	30, 16,
	14, 4,
	10, 6, 6,
	4, 2,
	6, 6,
	20, 10,
	6, 14, 8,
	4, 2, 28,
})

// route is one request path template.
type route struct {
	tmpl   string
	size   int  // typical response bytes
	static bool // always the same size
}

var searchWords = []string{"shoes", "laptop", "coffee+maker", "headphones", "kindle", "garden+chair", "usb-c+cable", "jacket", "tent", "monitor", "keyboard", "socks"}

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
	"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
	"kube-probe/1.29", "Prometheus/2.51.2", "curl/8.5.0", "Go-http-client/1.1", "python-requests/2.31.0",
	"okhttp/4.12.0", "Googlebot/2.1 (+http://www.google.com/bot.html)", "Apache-HttpClient/4.5.14 (Java/17.0.10)",
}

var referers = []string{"-", "-", "-", "https://shop.example.com/", "https://shop.example.com/cart", "https://www.google.com/", "https://shop.example.com/products"}

var messages = [4][]string{
	{ // debug
		"cache lookup", "acquired connection from pool", "evaluating feature flags", "sql query prepared",
		"decoded request body", "released connection to pool", "span started",
	},
	{ // info
		"request completed", "user logged in", "order created", "payment authorized", "cache refreshed",
		"message published", "session started", "inventory reserved", "email queued", "config reloaded",
	},
	{ // warn
		"slow query", "retrying request", "cache miss ratio high", "deprecated API called",
		"rate limit approaching", "connection pool exhausted, waiting", "request took longer than expected",
	},
	{ // error
		"failed to process message", "upstream connect error", "payment declined by processor",
		"database transaction rolled back", "context deadline exceeded", "connection refused",
		"failed to decode response", "unexpected EOF",
	},
}

var errorTexts = []string{
	"dial tcp 10.42.3.17:5432: connect: connection refused", "context deadline exceeded",
	"rpc error: code = Unavailable desc = connection error", "EOF", "i/o timeout",
	"pq: duplicate key value violates unique constraint \"orders_pkey\"", "redis: nil",
	"json: cannot unmarshal string into Go value of type int", "x509: certificate has expired or is not yet valid",
}

var goFiles = []string{"server.go", "handler.go", "store.go", "client.go", "worker.go", "cache.go", "middleware.go", "queue.go"}

var klogFiles = []string{"controller.go", "reflector.go", "leaderelection.go", "shared_informer.go", "reconciler.go"}

var klogMessages = []string{
	"\"Reconciling\" object=", "\"Successfully synced\" key=", "\"Watch close\" reflector=",
	"\"Updating status\" object=", "\"Requeue after error\" object=",
}

var javaExceptions = []string{
	"java.lang.NullPointerException: Cannot invoke \"String.length()\" because \"value\" is null",
	"java.lang.IllegalStateException: Order already captured",
	"java.net.SocketTimeoutException: Read timed out",
	"org.springframework.dao.DataIntegrityViolationException: could not execute statement",
	"java.util.concurrent.TimeoutException: Timeout waiting for task",
	"com.fasterxml.jackson.databind.exc.MismatchedInputException: Cannot deserialize value of type `long`",
	"java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after 30000ms.",
}

var javaClasses = []string{"OrderService", "PaymentController", "CartRepository", "InventoryClient", "UserResource", "CheckoutFacade", "LedgerWriter"}

var javaMethods = []string{"process", "handle", "capture", "findById", "save", "reserve", "lambda$submit$0", "doFilterInternal", "invoke"}

var javaFrameworkFrames = []string{
	"org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:1014)",
	"org.springframework.web.servlet.DispatcherServlet.doDispatch(DispatcherServlet.java:1089)",
	"org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:166)",
	"org.springframework.transaction.interceptor.TransactionInterceptor.invoke(TransactionInterceptor.java:119)",
	"java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1136)",
	"java.base/java.util.concurrent.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:635)",
	"org.apache.tomcat.util.threads.TaskThread$WrappingRunnable.run(TaskThread.java:61)",
	"java.base/java.lang.Thread.run(Thread.java:840)",
}

var goPanics = []string{
	"runtime error: invalid memory address or nil pointer dereference",
	"runtime error: index out of range [5] with length 3",
	"assignment to entry in nil map",
	"send on closed channel",
}

var goFuncs = []string{
	"main.(*Server).handleOrder", "main.(*Store).Get", "github.com/acme/shop/internal/cart.(*Service).Add",
	"github.com/acme/shop/internal/payments.capture", "net/http.HandlerFunc.ServeHTTP",
	"net/http.(*conn).serve", "github.com/acme/shop/internal/queue.(*Worker).run",
}

var regions = []string{"eu-west-1", "us-east-1", "us-west-2", "ap-southeast-1"}

const (
	hexDigits = "0123456789abcdef"
	alnum     = "bcdfghjklmnpqrstvwxz2456789" // Kubernetes' pod-suffix alphabet
)
