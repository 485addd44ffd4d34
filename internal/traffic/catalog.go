package traffic

// The catalog: who calls whom, and what failures look like on the wire.
//
// Wordings are modelled on what the providers and HTTP clients print (the
// provider's documented error bodies, and the error strings of Go net/http,
// Python requests/urllib3/httpx/aiohttp and Node axios/undici); ids, hosts,
// addresses and times are filled in per record. Templates use {name}
// placeholders, expanded by (*Generator).expand.

// lang is the HTTP client stack a service is written with; it decides the
// wording of client-side errors.
type lang uint8

const (
	anyLang lang = iota
	goLang
	pyLang
	nodeLang
)

// target is one endpoint a service calls, with the credential it uses.
type target struct {
	provider string // as the record names it
	method   string
	url      string // may hold {key}: the secret travels in the query
	model    string
	keyID    string // api_key_id; "" when the endpoint takes no credential
	weight   int
	okStatus int
	okBody   string  // template of a logged success body; "" logs none
	median   float64 // median success latency, ms
}

// service is one calling application.
type service struct {
	name    string
	lang    lang
	weight  int
	targets []target
}

var services = []service{
	{name: "storefront-thumbnails", lang: goLang, weight: 40, targets: []target{
		{provider: "stability", method: "POST", url: "https://api.stability.ai/v2beta/stable-image/generate/core",
			model: "stable-image-core", keyID: "stability-storefront-prod", weight: 40, okStatus: 200, median: 4200},
		{provider: "stability", method: "POST", url: "https://api.stability.ai/v2beta/stable-image/generate/sd3",
			model: "sd3.5-large-turbo", keyID: "stability-storefront-prod", weight: 10, okStatus: 200, median: 6100},
		{provider: "openai", method: "POST", url: "https://api.openai.com/v1/images/generations",
			model: "gpt-image-1", keyID: "openai-storefront", weight: 25, okStatus: 200, median: 14000,
			okBody: `{"created":{epoch},"data":[{"url":"https://oaidalleapiprodscus.blob.core.windows.net/private/org-{org}/user-{id8}/img-{id8}.png?st={isodate}&se={isodate}&sp=r&sv=2024-08-04&sr=b&sig={sig}"}]}`},
		{provider: "replicate", method: "POST", url: "https://api.replicate.com/v1/models/black-forest-labs/flux-schnell/predictions",
			model: "black-forest-labs/flux-schnell", keyID: "replicate-storefront", weight: 25, okStatus: 201, median: 380,
			okBody: `{"id":"{pid}","model":"black-forest-labs/flux-schnell","version":"dp-{id8}","status":"starting","created_at":"{isodate}","urls":{"get":"https://api.replicate.com/v1/predictions/{pid}","cancel":"https://api.replicate.com/v1/predictions/{pid}/cancel"}}`},
	}},
	{name: "avatar-studio", lang: nodeLang, weight: 25, targets: []target{
		{provider: "replicate", method: "POST", url: "https://api.replicate.com/v1/predictions",
			model: "stability-ai/sdxl", keyID: "replicate-avatar", weight: 25, okStatus: 201, median: 420,
			okBody: `{"id":"{pid}","version":"7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc","status":"starting","input":{"prompt":"portrait avatar, studio light"},"error":null,"logs":"","created_at":"{isodate}"}`},
		{provider: "replicate", method: "GET", url: "https://api.replicate.com/v1/predictions/{pid}",
			model: "stability-ai/sdxl", keyID: "replicate-avatar", weight: 20, okStatus: 200, median: 160,
			okBody: `{"id":"{pid}","status":"succeeded","output":["https://replicate.delivery/xezq/{id32}/out-0.webp"],"error":null,"metrics":{"predict_time":{secs}}}`},
		{provider: "huggingface", method: "POST", url: "https://router.huggingface.co/hf-inference/models/stabilityai/stable-diffusion-xl-base-1.0",
			model: "stabilityai/stable-diffusion-xl-base-1.0", keyID: "hf-avatar", weight: 30, okStatus: 200, median: 5200},
		{provider: "stability", method: "POST", url: "https://api.stability.ai/v2beta/stable-image/generate/ultra",
			model: "stable-image-ultra", keyID: "stability-avatar", weight: 15, okStatus: 200, median: 9800},
		{provider: "openai", method: "POST", url: "https://api.openai.com/v1/images/edits",
			model: "gpt-image-1", keyID: "openai-avatar", weight: 10, okStatus: 200, median: 21000},
	}},
	{name: "ad-creative-batch", lang: pyLang, weight: 20, targets: []target{
		{provider: "openai", method: "POST", url: "https://api.openai.com/v1/images/generations",
			model: "dall-e-3", keyID: "openai-batch", weight: 30, okStatus: 200, median: 12500},
		{provider: "azure-openai", method: "POST", url: "https://contoso-creative.openai.azure.com/openai/deployments/dall-e-3/images/generations?api-version=2024-02-01",
			model: "dall-e-3", keyID: "azure-creative-eastus", weight: 25, okStatus: 200, median: 13500},
		{provider: "stability", method: "POST", url: "https://api.stability.ai/v1/generation/stable-diffusion-xl-1024-v1-0/text-to-image",
			model: "stable-diffusion-xl-1024-v1-0", keyID: "stability-batch", weight: 25, okStatus: 200, median: 5600,
			okBody: `{"artifacts":[{"base64":"<omitted>","seed":{n5},"finishReason":"SUCCESS"}]}`},
		{provider: "google", method: "POST", url: "https://generativelanguage.googleapis.com/v1beta/models/imagen-3.0-generate-002:predict?key={key}",
			model: "imagen-3.0-generate-002", keyID: "google-batch", weight: 20, okStatus: 200, median: 7400},
		{provider: "huggingface", method: "POST", url: "https://api-inference.huggingface.co/models/black-forest-labs/FLUX.1-schnell",
			model: "black-forest-labs/FLUX.1-schnell", keyID: "hf-batch", weight: 10, okStatus: 200, median: 3900},
	}},
	{name: "design-preview", lang: pyLang, weight: 15, targets: []target{
		{provider: "automatic1111", method: "POST", url: "http://sd-webui.gpu.internal:7860/sdapi/v1/txt2img",
			model: "sd_xl_base_1.0.safetensors", weight: 45, okStatus: 200, median: 7800},
		{provider: "automatic1111", method: "POST", url: "http://sd-webui.gpu.internal:7860/sdapi/v1/img2img",
			model: "sd_xl_base_1.0.safetensors", weight: 15, okStatus: 200, median: 6900},
		{provider: "comfyui", method: "POST", url: "http://comfy-gpu-01.internal:8188/prompt",
			model: "sd_xl_base_1.0.safetensors", weight: 30, okStatus: 200, median: 45,
			okBody: `{"prompt_id":"{uuid}","number":{n},"node_errors":{}}`},
		{provider: "comfyui", method: "GET", url: "http://comfy-gpu-01.internal:8188/history/{uuid}",
			model: "sd_xl_base_1.0.safetensors", weight: 10, okStatus: 200, median: 12},
	}},
}

// reasonWeights is the share (per mille of failures) of each reason, with
// its category: throttling, timeouts and overload dominate real traffic,
// configuration mistakes are rarer but each is there.
var reasonWeights = []struct {
	category, reason string
	weight           int
}{
	{"auth", "missing_credentials", 12},
	{"auth", "invalid_credentials", 35},
	{"auth", "expired_credentials", 14},
	{"auth", "insufficient_permissions", 18},
	{"auth", "insufficient_credits", 25},
	{"network", "dns_failure", 18},
	{"network", "connection_refused", 25},
	{"network", "connection_reset", 40},
	{"network", "timeout", 130},
	{"network", "tls_error", 12},
	{"network", "proxy_error", 12},
	{"network", "firewall_blocked", 12},
	{"network", "unreachable", 12},
	{"payload", "malformed_json", 12},
	{"payload", "missing_parameter", 22},
	{"payload", "invalid_parameter", 80},
	{"payload", "too_large", 18},
	{"payload", "unsupported_media_type", 12},
	{"payload", "content_policy", 90},
	{"server", "internal_error", 80},
	{"server", "bad_gateway", 45},
	{"server", "unavailable", 100},
	{"server", "gateway_timeout", 45},
	{"server", "rate_limited", 170},
	{"unknown", "unmatched", 10},
}

// failure is one way a call fails: the status (0: no response), the
// client's error text and type, and the response body, as templates.
type failure struct {
	reason  string
	prov    string // provider whose wording this is; "" any, "cloud" any hosted API, "self" self-hosted
	lang    lang   // client stack for client-side errors
	status  int    // 0: no response
	ok      bool   // the target's own 2xx status: a failed job in a 200 body, or a client bug after a 200
	errType string
	err     string
	body    string
	weight  int
}

// Page templates shared by several failures.
const (
	cloudflarePage = "<!DOCTYPE html>\n<!--[if lt IE 7]> <html class=\"no-js ie6 oldie\" lang=\"en-US\"> <![endif]-->\n" +
		"<html lang=\"en-US\"><head><title>{host} | {cfcode}: {cftitle}</title><meta charset=\"UTF-8\" />" +
		"<link rel=\"stylesheet\" id=\"cf_styles-css\" href=\"/cdn-cgi/styles/cf.errors.css\" /></head>\n" +
		"<body><div id=\"cf-wrapper\"><div id=\"cf-error-details\" class=\"p-0\"><header class=\"mx-auto pt-10 lg:pt-6 lg:px-8 w-240 lg:w-full mb-8\">" +
		"<h1 class=\"inline-block sm:block sm:mb-2 font-light text-60 lg:text-4xl text-black-dark leading-tight mr-2\">" +
		"<span class=\"inline-block\">{cftitle}</span> <span class=\"code-label\">Error code {cfcode}</span></h1>" +
		"<div>Visit <a href=\"https://www.cloudflare.com/5xx-error-landing?utm_source=errorcode_{cfcode}&amp;utm_campaign={host}\" target=\"_blank\" rel=\"noopener noreferrer\">cloudflare.com</a> for more information.</div>" +
		"<div class=\"mt-3\">{date}</div></header>\n<div class=\"cf-error-footer cf-wrapper w-240 lg:w-full py-10 sm:py-4 sm:px-8 mx-auto text-center sm:text-left border-solid border-0 border-t border-gray-300\">" +
		"<p class=\"text-13\"><span class=\"cf-footer-item sm:block sm:mb-1\">Cloudflare Ray ID: <strong class=\"font-semibold\">{ray}</strong></span></p></div></div></div></body></html>"

	nginxPage = "<html>\r\n<head><title>{code} {text}</title></head>\r\n<body>\r\n<center><h1>{code} {text}</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n"

	albPage = "<html>\r\n<head><title>{code} {text}</title></head>\r\n<body>\r\n<center><h1>{code} {text}</h1></center>\r\n</body>\r\n</html>\r\n"

	zscalerPage = "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\"><title>Internet Security by Zscaler</title></head>" +
		"<body><div class=\"zs-block\"><h1>Website blocked</h1><p>Not allowed to browse Generative AI category</p>" +
		"<p>You tried to visit: {host}{path}</p><p>Your organization has selected Zscaler to protect you from internet threats. " +
		"The Internet site you have attempted to access is prohibited in accordance with your organization's acceptable use policy.</p>" +
		"<p>Your IP: {lip} | Gateway: zs2-fra4.zscloud.net | {date}</p></div></body></html>"

	squidDeniedPage = "<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n" +
		"<meta type=\"copyright\" content=\"Copyright (C) 1996-2023 The Squid Software Foundation and contributors\">\n" +
		"<title>ERROR: The requested URL could not be retrieved</title>\n</head><body id=ERR_ACCESS_DENIED>\n<div id=\"titles\">\n<h1>ERROR</h1>\n" +
		"<h2>The requested URL could not be retrieved</h2>\n</div>\n<hr>\n<div id=\"content\">\n<p>The following error was encountered while trying to retrieve the URL: " +
		"<a href=\"{host}:443\">{host}:443</a></p>\n<blockquote id=\"error\">\n<p><b>Access Denied.</b></p>\n</blockquote>\n" +
		"<p>Access control configuration prevents your request from being allowed at this time. Please contact your service provider if you feel this is incorrect.</p>\n" +
		"<p>Your cache administrator is <a href=\"mailto:netops@corp.example\">netops@corp.example</a>.</p>\n<br>\n</div>\n<hr>\n" +
		"<div id=\"footer\">\n<p>Generated {date} by proxy-02.corp.example (squid/5.7)</p>\n<!-- ERR_ACCESS_DENIED -->\n</div>\n</body></html>\n"

	squidAuthPage = "<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n" +
		"<title>ERROR: Cache Access Denied</title>\n</head><body id=ERR_CACHE_ACCESS_DENIED>\n<div id=\"titles\">\n<h1>ERROR</h1>\n<h2>Cache Access Denied.</h2>\n</div>\n<hr>\n" +
		"<div id=\"content\">\n<p>The following error was encountered while trying to retrieve the URL: <a href=\"{host}:443\">{host}:443</a></p>\n" +
		"<blockquote id=\"error\">\n<p><b>Cache Access Denied.</b></p>\n</blockquote>\n" +
		"<p>Sorry, you are not currently allowed to request {host}:443 from this cache until you have authenticated yourself.</p>\n" +
		"</div>\n<hr>\n<div id=\"footer\">\n<p>Generated {date} by proxy-02.corp.example (squid/5.7)</p>\n<!-- ERR_CACHE_ACCESS_DENIED -->\n</div>\n</body></html>\n"

	paloAltoPage = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"><title>Web Page Blocked</title>" +
		"<style>#content{border:3px solid#aaa;background-color:#fff;margin:40;padding:40;font-family:Tahoma,Helvetica,Arial,sans-serif;font-size:12px;}</style></head>" +
		"<body bgcolor=\"#e7e8e9\"><div id=\"content\"><h1>Web Page Blocked</h1><p>Access to the web page you were trying to visit has been blocked in accordance with company policy. " +
		"Please contact your system administrator if you believe this is in error.</p><p><b>User:</b> {lip} </p><p><b>URL:</b> {host}{path} </p>" +
		"<p><b>Category:</b> artificial-intelligence </p></div></body></html>"

	fortinetPage = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"UTF-8\"><title>Web Filter Violation</title></head><body>" +
		"<div class=\"main\"><h1>FortiGuard Intrusion Prevention - Access Blocked</h1><h3>Web Page Blocked</h3>" +
		"<p>You have tried to access a web page that is in violation of your Internet usage policy.</p>" +
		"<p>URL: {host}{path}</p><p>Category: Artificial Intelligence Technology</p>" +
		"<p>To have the rating of this web page re-evaluated <a href=\"https://www.fortiguard.com/faq/wfratingsubmit\">please click here</a>.</p></div></body></html>"

	aiohttpPage500 = "500 Internal Server Error\n\nServer got itself in trouble"

	cudaOOM = "CUDA out of memory. Tried to allocate {n}.00 GiB (GPU 0; 23.65 GiB total capacity; 19.{n}1 GiB already allocated; 1.{n}5 GiB free; 20.80 GiB reserved in total by PyTorch) " +
		"If reserved memory is >> allocated memory try setting max_split_size_mb to avoid fragmentation.  See documentation for Memory Management and PYTORCH_CUDA_ALLOC_CONF"
)

// failures is the catalog of failure wordings, grouped by reason.
var failures = []failure{
	// --- auth / missing_credentials ---
	{reason: "missing_credentials", prov: "openai", status: 401, weight: 3,
		body: `{"error":{"message":"You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username. You can obtain an API key from https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":null}}`},
	{reason: "missing_credentials", prov: "openai", lang: pyLang, weight: 2, errType: "openai.OpenAIError",
		err: "The api_key client option must be set either by passing api_key to the client or by setting the OPENAI_API_KEY environment variable"},
	{reason: "missing_credentials", prov: "stability", status: 401, weight: 3,
		body: `{"id":"{id32}","name":"unauthorized","errors":["Missing API key. Please provide your API key in the Authorization header as a Bearer token."]}`},
	{reason: "missing_credentials", prov: "replicate", status: 401, weight: 3,
		body: `{"title":"Unauthenticated","detail":"You did not pass an authentication token","status":401}`},
	{reason: "missing_credentials", prov: "huggingface", lang: pyLang, weight: 2, errType: "huggingface_hub.errors.LocalTokenNotFoundError",
		err: "Token is required (`token=True`), but no token found. You need to provide a token or be logged in to Hugging Face with `huggingface-cli login` or `huggingface_hub.login`. See https://huggingface.co/settings/tokens."},
	{reason: "missing_credentials", prov: "huggingface", status: 401, weight: 2,
		body: `{"error":"Credentials are required to access this resource: no token was provided in the Authorization header"}`},
	{reason: "missing_credentials", prov: "azure-openai", status: 401, weight: 3,
		body: `{"error":{"code":"401","message":"Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."}}`},
	{reason: "missing_credentials", prov: "google", status: 403, weight: 3,
		body: `{"error":{"code":403,"message":"Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.","status":"PERMISSION_DENIED"}}`},
	{reason: "missing_credentials", prov: "automatic1111", status: 401, weight: 2,
		body: `{"detail":"Not authenticated"}`},

	// --- auth / invalid_credentials ---
	{reason: "invalid_credentials", prov: "openai", status: 401, weight: 4,
		body: `{"error":{"message":"Incorrect API key provided: sk-proj-********************************************{keytail}. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`},
	{reason: "invalid_credentials", prov: "openai", lang: nodeLang, status: 401, weight: 2, errType: "AuthenticationError",
		err:  "401 Incorrect API key provided: undefined. You can find your API key at https://platform.openai.com/account/api-keys.",
		body: `{"error":{"message":"Incorrect API key provided: undefined. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`},
	{reason: "invalid_credentials", prov: "stability", status: 401, weight: 4,
		body: `{"id":"{id32}","name":"unauthorized","errors":["Incorrect API key provided. You can find your API key at https://platform.stability.ai/account/keys."]}`},
	{reason: "invalid_credentials", prov: "stability", status: 401, weight: 2,
		body: `{"id":"{id32}","message":"Incorrect API key provided","name":"unauthorized"}`},
	{reason: "invalid_credentials", prov: "replicate", status: 401, weight: 4,
		body: `{"title":"Unauthenticated","detail":"Invalid token.","status":401}`},
	{reason: "invalid_credentials", prov: "huggingface", status: 401, weight: 3,
		body: `{"error":"Invalid credentials in Authorization header"}`},
	{reason: "invalid_credentials", prov: "huggingface", status: 401, weight: 2,
		body: `{"error":"Authorization header is correct, but the token seems invalid"}`},
	{reason: "invalid_credentials", prov: "azure-openai", status: 401, weight: 4,
		body: `{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}}`},
	{reason: "invalid_credentials", prov: "google", status: 400, weight: 4,
		body: `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}}]}}`},

	// --- auth / expired_credentials ---
	{reason: "expired_credentials", prov: "azure-openai", status: 401, weight: 4,
		body: `{"error":{"code":"401","message":"Unauthorized. Access token has expired or is not yet valid."}}`},
	{reason: "expired_credentials", prov: "google", status: 400, weight: 4,
		body: `{"error":{"code":400,"message":"API key expired. Please renew the API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}`},
	{reason: "expired_credentials", prov: "huggingface", status: 401, weight: 3,
		body: `{"error":"Your token has expired. Please generate a new access token at https://huggingface.co/settings/tokens"}`},
	{reason: "expired_credentials", prov: "stability", status: 401, weight: 3,
		body: `{"id":"{id32}","name":"unauthorized","errors":["This API key has expired. Create a new key at https://platform.stability.ai/account/keys."]}`},
	{reason: "expired_credentials", prov: "replicate", status: 401, weight: 3,
		body: `{"title":"Unauthenticated","detail":"Token expired: this API token was revoked after its expiry date. Create a new token at https://replicate.com/account/api-tokens","status":401}`},
	{reason: "expired_credentials", prov: "openai", status: 401, weight: 2,
		body: `{"error":{"message":"The OAuth token has expired. Please sign in again to obtain a new token.","type":"invalid_request_error","param":null,"code":"token_expired"}}`},

	// --- auth / insufficient_permissions ---
	{reason: "insufficient_permissions", prov: "openai", status: 403, weight: 4,
		body: `{"error":{"message":"Your organization must be verified to use the model ` + "`gpt-image-1`" + `. Please go to: https://platform.openai.com/settings/organization/general and click on Verify Organization. If you just verified, it can take up to 15 minutes for access to propagate.","type":"invalid_request_error","param":null,"code":null}}`},
	{reason: "insufficient_permissions", prov: "openai", status: 403, weight: 2,
		body: `{"error":{"message":"Project ` + "`proj_{id8}`" + ` does not have access to model ` + "`{model}`" + `","type":"invalid_request_error","param":null,"code":"model_not_found"}}`},
	{reason: "insufficient_permissions", prov: "huggingface", status: 403, weight: 4,
		body: `{"error":"Access to model {model} is restricted. You must have access to it and be authenticated to access it. Please log in."}`},
	{reason: "insufficient_permissions", prov: "replicate", status: 403, weight: 3,
		body: `{"title":"Forbidden","detail":"You do not have permission to perform this action.","status":403}`},
	{reason: "insufficient_permissions", prov: "stability", status: 403, weight: 3,
		body: `{"id":"{id32}","name":"forbidden","errors":["Your API key does not have access to the {model} engine. Contact your organization admin to request access."]}`},
	{reason: "insufficient_permissions", prov: "azure-openai", status: 403, weight: 3,
		body: `{"error":{"code":"PermissionDenied","message":"The principal lacks the required data action Microsoft.CognitiveServices/accounts/OpenAI/deployments/images/generations/action to perform POST /openai/deployments/{deployment-id}/images/generations operation."}}`},
	{reason: "insufficient_permissions", prov: "google", status: 403, weight: 3,
		body: `{"error":{"code":403,"message":"Imagen API is only accessible to billed users at this time.","status":"PERMISSION_DENIED"}}`},

	// --- auth / insufficient_credits ---
	{reason: "insufficient_credits", prov: "openai", status: 429, weight: 5,
		body: `{"error":{"message":"You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`},
	{reason: "insufficient_credits", prov: "openai", status: 400, weight: 2,
		body: `{"error":{"message":"Billing hard limit has been reached","type":"invalid_request_error","param":null,"code":"billing_hard_limit_reached"}}`},
	{reason: "insufficient_credits", prov: "stability", status: 402, weight: 5,
		body: `{"id":"{id32}","name":"payment_required","errors":["You lack sufficient credits to make this request.  Please purchase more credits at https://platform.stability.ai/account/credits and try again."]}`},
	{reason: "insufficient_credits", prov: "replicate", status: 402, weight: 5,
		body: `{"title":"Insufficient credit","detail":"You have insufficient credit to run this model. Go to https://replicate.com/account/billing#billing to purchase credit. Once you purchase credit, please wait a few minutes before retrying.","status":402}`},
	{reason: "insufficient_credits", prov: "huggingface", status: 402, weight: 5,
		body: `{"error":"You have exceeded your monthly included credits for Inference Providers. Subscribe to PRO to get 20x more monthly included credits."}`},
	{reason: "insufficient_credits", prov: "azure-openai", status: 429, weight: 2,
		body: `{"error":{"code":"InsufficientQuota","message":"The subscription has reached its spending limit for this billing period. Raise the spending limit or wait for the next billing period."}}`},

	// --- network / dns_failure ---
	{reason: "dns_failure", lang: goLang, weight: 5, errType: "*url.Error",
		err: `{gomethod} "{url}": dial tcp: lookup {host} on 10.96.0.10:53: no such host`},
	{reason: "dns_failure", lang: goLang, weight: 2, errType: "*url.Error",
		err: `{gomethod} "{url}": dial tcp: lookup {host} on 127.0.0.53:53: server misbehaving`},
	{reason: "dns_failure", lang: pyLang, weight: 4, errType: "requests.exceptions.ConnectionError",
		err: `{pool}(host='{host}', port={port}): Max retries exceeded with url: {path} (Caused by NameResolutionError("<urllib3.connection.{conncls} object at {ptr}>: Failed to resolve '{host}' ([Errno -2] Name or service not known)"))`},
	{reason: "dns_failure", lang: pyLang, weight: 2, errType: "httpx.ConnectError",
		err: "[Errno -3] Temporary failure in name resolution"},
	{reason: "dns_failure", lang: nodeLang, weight: 4, errType: "Error",
		err: "getaddrinfo ENOTFOUND {host}"},
	{reason: "dns_failure", lang: nodeLang, weight: 2, errType: "TypeError",
		err: "fetch failed (cause: Error: getaddrinfo EAI_AGAIN {host})"},

	// --- network / connection_refused ---
	{reason: "connection_refused", lang: goLang, weight: 5, errType: "*url.Error",
		err: `{gomethod} "{url}": dial tcp {ip}:{port}: connect: connection refused`},
	{reason: "connection_refused", lang: pyLang, weight: 4, errType: "requests.exceptions.ConnectionError",
		err: `{pool}(host='{host}', port={port}): Max retries exceeded with url: {path} (Caused by NewConnectionError('<urllib3.connection.{conncls} object at {ptr}>: Failed to establish a new connection: [Errno 111] Connection refused'))`},
	{reason: "connection_refused", prov: "self", lang: pyLang, weight: 3, errType: "aiohttp.client_exceptions.ClientConnectorError",
		err: "Cannot connect to host {host}:{port} ssl:default [Connection refused]"},
	{reason: "connection_refused", lang: nodeLang, weight: 4, errType: "Error",
		err: "connect ECONNREFUSED {ip}:{port}"},

	// --- network / connection_reset ---
	{reason: "connection_reset", lang: goLang, weight: 4, errType: "*url.Error",
		err: `{gomethod} "{url}": read tcp {lip}:{lport}->{ip}:{port}: read: connection reset by peer`},
	{reason: "connection_reset", lang: goLang, weight: 2, errType: "*url.Error",
		err: `{gomethod} "{url}": EOF`},
	{reason: "connection_reset", lang: goLang, weight: 1, errType: "*url.Error",
		err: `{gomethod} "{url}": write tcp {lip}:{lport}->{ip}:{port}: write: broken pipe`},
	{reason: "connection_reset", lang: pyLang, weight: 3, errType: "requests.exceptions.ConnectionError",
		err: "('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))"},
	{reason: "connection_reset", lang: pyLang, weight: 2, errType: "requests.exceptions.ConnectionError",
		err: "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"},
	{reason: "connection_reset", lang: pyLang, weight: 1, errType: "httpx.RemoteProtocolError",
		err: "Server disconnected without sending a response."},
	{reason: "connection_reset", lang: nodeLang, weight: 3, errType: "Error",
		err: "socket hang up"},
	{reason: "connection_reset", lang: nodeLang, weight: 2, errType: "Error",
		err: "read ECONNRESET"},
	{reason: "connection_reset", lang: nodeLang, weight: 1, errType: "TypeError",
		err: "fetch failed (cause: SocketError: other side closed)"},

	// --- network / timeout ---
	{reason: "timeout", lang: goLang, weight: 5, errType: "*url.Error",
		err: `{gomethod} "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`},
	{reason: "timeout", lang: goLang, weight: 2, errType: "*url.Error",
		err: `{gomethod} "{url}": dial tcp {ip}:{port}: i/o timeout`},
	{reason: "timeout", lang: goLang, weight: 1, errType: "*url.Error",
		err: `{gomethod} "{url}": net/http: TLS handshake timeout`},
	{reason: "timeout", lang: goLang, weight: 1, errType: "*errors.errorString",
		err: "context deadline exceeded"},
	{reason: "timeout", lang: pyLang, weight: 4, errType: "requests.exceptions.ReadTimeout",
		err: "{pool}(host='{host}', port={port}): Read timed out. (read timeout={timeout})"},
	{reason: "timeout", lang: pyLang, weight: 2, errType: "requests.exceptions.ConnectTimeout",
		err: `{pool}(host='{host}', port={port}): Max retries exceeded with url: {path} (Caused by ConnectTimeoutError(<urllib3.connection.{conncls} object at {ptr}>, 'Connection to {host} timed out. (connect timeout=10)'))`},
	{reason: "timeout", prov: "openai", lang: pyLang, weight: 2, errType: "openai.APITimeoutError",
		err: "Request timed out."},
	{reason: "timeout", lang: pyLang, weight: 1, errType: "httpx.ReadTimeout",
		err: "The read operation timed out"},
	{reason: "timeout", lang: nodeLang, weight: 4, errType: "AxiosError",
		err: "timeout of {timeoutms}ms exceeded"},
	{reason: "timeout", lang: nodeLang, weight: 2, errType: "TypeError",
		err: "fetch failed (cause: ConnectTimeoutError: Connect Timeout Error (attempted address: {host}:{port}, timeout: 10000ms))"},
	{reason: "timeout", lang: nodeLang, weight: 1, errType: "TimeoutError",
		err: "The operation was aborted due to timeout"},

	// --- network / tls_error ---
	{reason: "tls_error", lang: goLang, weight: 3, errType: "*url.Error",
		err: `{gomethod} "{url}": tls: failed to verify certificate: x509: certificate signed by unknown authority`},
	{reason: "tls_error", lang: goLang, weight: 1, errType: "*url.Error",
		err: `{gomethod} "{url}": tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time {isodate} is after 2025-11-01T23:59:59Z`},
	{reason: "tls_error", lang: goLang, weight: 1, errType: "*url.Error",
		err: `{gomethod} "{url}": remote error: tls: handshake failure`},
	{reason: "tls_error", lang: pyLang, weight: 3, errType: "requests.exceptions.SSLError",
		err: `{pool}(host='{host}', port={port}): Max retries exceeded with url: {path} (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain (_ssl.c:1006)')))`},
	{reason: "tls_error", lang: pyLang, weight: 1, errType: "httpx.ConnectError",
		err: "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1000)"},
	{reason: "tls_error", lang: nodeLang, weight: 3, errType: "Error",
		err: "unable to get local issuer certificate"},
	{reason: "tls_error", lang: nodeLang, weight: 1, errType: "Error",
		err: "Hostname/IP does not match certificate's altnames: Host: {host}. is not in the cert's altnames: DNS:*.zscaler.net, DNS:zscaler.net"},

	// --- network / proxy_error ---
	{reason: "proxy_error", lang: goLang, weight: 3, errType: "*url.Error",
		err: `{gomethod} "{url}": proxyconnect tcp: dial tcp 10.20.0.8:3128: connect: connection refused`},
	{reason: "proxy_error", lang: goLang, weight: 2, errType: "*url.Error",
		err: `{gomethod} "{url}": Proxy Authentication Required`},
	{reason: "proxy_error", lang: pyLang, weight: 3, errType: "requests.exceptions.ProxyError",
		err: `{pool}(host='{host}', port={port}): Max retries exceeded with url: {path} (Caused by ProxyError('Unable to connect to proxy', OSError('Tunnel connection failed: 407 Proxy Authentication Required')))`},
	{reason: "proxy_error", lang: pyLang, weight: 1, errType: "requests.exceptions.ProxyError",
		err: `{pool}(host='{host}', port={port}): Max retries exceeded with url: {path} (Caused by ProxyError('Unable to connect to proxy', NewConnectionError('<urllib3.connection.HTTPConnection object at {ptr}>: Failed to establish a new connection: [Errno 111] Connection refused')))`},
	{reason: "proxy_error", lang: nodeLang, status: 407, weight: 2, errType: "AxiosError",
		err: "Request failed with status code 407", body: squidAuthPage},
	{reason: "proxy_error", prov: "cloud", status: 407, weight: 2, body: squidAuthPage},

	// --- network / firewall_blocked ---
	{reason: "firewall_blocked", prov: "cloud", status: 403, weight: 3, body: zscalerPage},
	{reason: "firewall_blocked", prov: "cloud", status: 403, weight: 3, body: squidDeniedPage},
	{reason: "firewall_blocked", prov: "cloud", status: 503, weight: 2, body: paloAltoPage},
	{reason: "firewall_blocked", prov: "cloud", status: 403, weight: 2, body: fortinetPage},
	{reason: "firewall_blocked", prov: "cloud", lang: goLang, status: 200, weight: 1, errType: "*json.SyntaxError",
		err: "invalid character '<' looking for beginning of value", body: zscalerPage},
	{reason: "firewall_blocked", prov: "cloud", lang: nodeLang, status: 200, weight: 1, errType: "SyntaxError",
		err: `Unexpected token '<', "<!DOCTYPE "... is not valid JSON`, body: zscalerPage},

	// --- network / unreachable ---
	{reason: "unreachable", lang: goLang, weight: 3, errType: "*url.Error",
		err: `{gomethod} "{url}": dial tcp {ip}:{port}: connect: no route to host`},
	{reason: "unreachable", lang: goLang, weight: 1, errType: "*url.Error",
		err: `{gomethod} "{url}": dial tcp [2606:4700::6810:{lport}]:{port}: connect: network is unreachable`},
	{reason: "unreachable", lang: pyLang, weight: 3, errType: "requests.exceptions.ConnectionError",
		err: `{pool}(host='{host}', port={port}): Max retries exceeded with url: {path} (Caused by NewConnectionError('<urllib3.connection.{conncls} object at {ptr}>: Failed to establish a new connection: [Errno 113] No route to host'))`},
	{reason: "unreachable", lang: pyLang, weight: 1, errType: "httpx.ConnectError",
		err: "[Errno 101] Network is unreachable"},
	{reason: "unreachable", lang: nodeLang, weight: 3, errType: "Error",
		err: "connect EHOSTUNREACH {ip}:{port}"},
	{reason: "unreachable", lang: nodeLang, weight: 1, errType: "Error",
		err: "connect ENETUNREACH {ip}:{port} - Local (0.0.0.0:0)"},

	// --- payload / malformed_json ---
	{reason: "malformed_json", prov: "openai", status: 400, weight: 3,
		body: `{"error":{"message":"We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)","type":"invalid_request_error","param":null,"code":null}}`},
	{reason: "malformed_json", prov: "automatic1111", status: 422, weight: 3,
		body: `{"detail":[{"type":"json_invalid","loc":["body",{n3}],"msg":"JSON decode error","input":{},"ctx":{"error":"Expecting ',' delimiter"}}]}`},
	{reason: "malformed_json", prov: "replicate", status: 400, weight: 2,
		body: `{"title":"Malformed request","detail":"JSON parse error - Expecting property name enclosed in double quotes: line 1 column {n3} (char {n3})","status":400}`},
	{reason: "malformed_json", prov: "comfyui", status: 400, weight: 2,
		body: `{"error":{"type":"invalid_prompt","message":"Cannot parse prompt: invalid JSON","details":"Expecting value: line 1 column 1 (char 0)","extra_info":{}},"node_errors":[]}`},
	{reason: "malformed_json", prov: "google", status: 400, weight: 2,
		body: `{"error":{"code":400,"message":"Invalid JSON payload received. Unexpected token.\n\"prompt\": \"a red \n                    ^","status":"INVALID_ARGUMENT"}}`},
	{reason: "malformed_json", prov: "azure-openai", status: 400, weight: 2,
		body: `{"error":{"code":"BadRequest","message":"The request body is not valid JSON: Unexpected end of content while reading JSON."}}`},

	// --- payload / missing_parameter ---
	{reason: "missing_parameter", prov: "openai", status: 400, weight: 3,
		body: `{"error":{"message":"Missing required parameter: 'prompt'.","type":"invalid_request_error","param":"prompt","code":"missing_required_parameter"}}`},
	{reason: "missing_parameter", prov: "stability", status: 400, weight: 3,
		body: `{"id":"{id32}","name":"bad_request","errors":["prompt: Required"]}`},
	{reason: "missing_parameter", prov: "automatic1111", status: 422, weight: 3,
		body: `{"detail":[{"type":"missing","loc":["body","prompt"],"msg":"Field required","input":{"steps":30,"width":1024,"height":1024}}]}`},
	{reason: "missing_parameter", prov: "replicate", status: 422, weight: 3,
		body: `{"detail":"- input: prompt is required\n","status":422,"title":"Input validation failed","invalid_fields":[{"type":"required","field":"input","description":"prompt is required"}]}`},
	{reason: "missing_parameter", prov: "huggingface", status: 400, weight: 2,
		body: `{"error":"Missing required field: inputs"}`},
	{reason: "missing_parameter", prov: "comfyui", status: 400, weight: 2,
		body: `{"error":{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"","extra_info":{}},"node_errors":{"3":{"errors":[{"type":"required_input_missing","message":"Required input is missing","details":"model","extra_info":{"input_name":"model"}}],"dependent_outputs":["9"],"class_type":"KSampler"}}}`},

	// --- payload / invalid_parameter ---
	{reason: "invalid_parameter", prov: "stability", status: 400, weight: 3,
		body: `{"id":"{id32}","name":"bad_request","errors":["aspect_ratio: must be one of 16:9, 1:1, 21:9, 2:3, 3:2, 4:5, 5:4, 9:16, 9:21"]}`},
	{reason: "invalid_parameter", prov: "stability", status: 400, weight: 2,
		body: `{"id":"{id32}","name":"invalid_height","message":"height must be a multiple of 64 (got {n3})"}`},
	{reason: "invalid_parameter", prov: "openai", status: 400, weight: 3,
		body: `{"error":{"message":"Invalid value: '1000x1000'. Supported values are: '1024x1024', '1024x1536', '1536x1024', and 'auto'.","type":"invalid_request_error","param":"size","code":"invalid_value"}}`},
	{reason: "invalid_parameter", prov: "azure-openai", status: 400, weight: 2,
		body: `{"error":{"code":"InvalidPayload","message":"'512x512' is not one of ['1024x1024', '1792x1024', '1024x1792'] - 'size'"}}`},
	{reason: "invalid_parameter", prov: "replicate", status: 422, weight: 3,
		body: `{"detail":"- input.num_inference_steps: Must be less than or equal to 50\n","status":422,"title":"Input validation failed","invalid_fields":[{"type":"less_than_equal","field":"input.num_inference_steps","description":"Must be less than or equal to 50"}]}`},
	{reason: "invalid_parameter", prov: "automatic1111", status: 404, weight: 2,
		body: `{"detail":"Sampler not found"}`},
	{reason: "invalid_parameter", prov: "automatic1111", status: 422, weight: 2,
		body: `{"detail":[{"type":"int_parsing","loc":["body","steps"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"thirty"}]}`},
	{reason: "invalid_parameter", prov: "comfyui", status: 400, weight: 3,
		body: `{"error":{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"","extra_info":{}},"node_errors":{"4":{"errors":[{"type":"value_not_in_list","message":"Value not in list","details":"ckpt_name: 'sdxl_base.safetensors' not in ['sd_xl_base_1.0.safetensors', 'v1-5-pruned-emaonly.safetensors']","extra_info":{"input_name":"ckpt_name"}}],"dependent_outputs":["9"],"class_type":"CheckpointLoaderSimple"}}}`},
	{reason: "invalid_parameter", prov: "huggingface", status: 400, weight: 2,
		body: `{"error":"Input validation error: ` + "`num_inference_steps`" + ` must be less than or equal to 100"}`},
	{reason: "invalid_parameter", prov: "google", status: 400, weight: 2,
		body: `{"error":{"code":400,"message":"Invalid value at 'parameters.sampleCount' (TYPE_INT32), 12: must be between 1 and 4","status":"INVALID_ARGUMENT"}}`},

	// --- payload / too_large ---
	{reason: "too_large", prov: "stability", status: 413, weight: 3,
		body: `{"id":"{id32}","name":"payload_too_large","errors":["body: payloads cannot be larger than 10MiB in size"]}`},
	{reason: "too_large", prov: "openai", status: 400, weight: 2,
		body: `{"error":{"message":"Uploaded image must be less than 4 MB, got {n}.{n3} MB.","type":"invalid_request_error","param":"image","code":"image_too_large"}}`},
	{reason: "too_large", prov: "self", status: 413, weight: 3, body: "{nginx:413}"},
	{reason: "too_large", prov: "cloud", status: 413, weight: 2, body: "{nginx:413}"},
	{reason: "too_large", prov: "replicate", status: 413, weight: 2,
		body: `{"title":"Request entity too large","detail":"The request body exceeds the 100MB limit. Upload large files with the files API and pass their URL instead.","status":413}`},

	// --- payload / unsupported_media_type ---
	{reason: "unsupported_media_type", prov: "openai", status: 400, weight: 3,
		body: `{"error":{"message":"Invalid file 'image': unsupported mimetype ('image/gif'). Supported file formats are 'image/jpeg', 'image/png', and 'image/webp'.","type":"invalid_request_error","param":"image","code":"unsupported_file_mimetype"}}`},
	{reason: "unsupported_media_type", prov: "replicate", status: 415, weight: 3,
		body: `{"detail":"Unsupported media type \"text/plain\" in request.","status":415}`},
	{reason: "unsupported_media_type", prov: "stability", status: 415, weight: 3,
		body: `{"id":"{id32}","name":"unsupported_media_type","errors":["content-type: must be multipart/form-data"]}`},
	{reason: "unsupported_media_type", prov: "huggingface", status: 415, weight: 2,
		body: `{"error":"Unsupported Media Type: Content type 'application/x-www-form-urlencoded' is not supported"}`},
	{reason: "unsupported_media_type", prov: "automatic1111", status: 415, weight: 1,
		body: `{"detail":"Unsupported Media Type"}`},

	// --- payload / content_policy ---
	{reason: "content_policy", prov: "openai", status: 400, weight: 4,
		body: `{"error":{"message":"Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.","type":"invalid_request_error","param":null,"code":"content_policy_violation"}}`},
	{reason: "content_policy", prov: "openai", status: 400, weight: 2,
		body: `{"error":{"message":"Your request was rejected by the safety system. If you believe this is an error, contact us at help.openai.com and include the request ID {rid}.","type":"image_generation_user_error","param":null,"code":"moderation_blocked"}}`},
	{reason: "content_policy", prov: "stability", status: 403, weight: 4,
		body: `{"id":"{id32}","name":"content_moderation","errors":["Your request was flagged by our content moderation system, as a result your request was denied and you were not charged."]}`},
	{reason: "content_policy", prov: "replicate", ok: true, weight: 4,
		body: `{"id":"{pid}","status":"failed","error":"NSFW content detected. Try running it again, or try a different prompt.","logs":"Using seed: {n5}\nPotential NSFW content detected","metrics":{"predict_time":{secs}}}`},
	{reason: "content_policy", prov: "azure-openai", status: 400, weight: 4,
		body: `{"error":{"code":"content_policy_violation","inner_error":{"code":"ResponsibleAIPolicyViolation","content_filter_results":{"sexual":{"filtered":true,"severity":"medium"},"violence":{"filtered":false,"severity":"safe"},"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"}}},"message":"Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system."}}`},
	{reason: "content_policy", prov: "google", status: 400, weight: 3,
		body: `{"error":{"code":400,"message":"Image generation failed with the following error: The prompt could not be submitted. This prompt contains sensitive words that violate Google's Responsible AI practices. Try rephrasing the prompt.","status":"INVALID_ARGUMENT"}}`},
	{reason: "content_policy", prov: "huggingface", status: 400, weight: 2,
		body: `{"error":"The prompt was flagged by the safety checker: potential NSFW content was detected in the request."}`},

	// --- server / internal_error ---
	{reason: "internal_error", prov: "openai", status: 500, weight: 4,
		body: `{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}`},
	{reason: "internal_error", prov: "stability", status: 500, weight: 4,
		body: `{"id":"{id32}","name":"internal_error","errors":["An unexpected server error has occurred, please try again later."]}`},
	{reason: "internal_error", prov: "replicate", ok: true, weight: 4,
		body: `{"id":"{pid}","status":"failed","error":"` + cudaOOM + `","logs":"Loading pipeline components...\n","metrics":{}}`},
	{reason: "internal_error", prov: "replicate", status: 500, weight: 2,
		body: `{"title":"Internal Server Error","detail":"An unexpected error occurred. Please try again later.","status":500}`},
	{reason: "internal_error", prov: "automatic1111", status: 500, weight: 4,
		body: `{"error":"OutOfMemoryError","detail":"","body":"","errors":"` + cudaOOM + `"}`},
	{reason: "internal_error", prov: "comfyui", status: 500, weight: 3, body: aiohttpPage500},
	{reason: "internal_error", prov: "huggingface", status: 500, weight: 3,
		body: `{"error":"CUDA error: an illegal memory access was encountered\nCUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect."}`},
	{reason: "internal_error", prov: "azure-openai", status: 500, weight: 2,
		body: `{"error":{"code":"InternalServerError","message":"The service encountered an internal error. Please retry."}}`},
	{reason: "internal_error", prov: "google", status: 500, weight: 2,
		body: `{"error":{"code":500,"message":"An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting","status":"INTERNAL"}}`},

	// --- server / bad_gateway ---
	{reason: "bad_gateway", prov: "openai", status: 502, weight: 3,
		body: `{"error":{"code":502,"message":"Bad gateway.","param":null,"type":"cf_bad_gateway"}}`},
	{reason: "bad_gateway", prov: "cloud", status: 502, weight: 2, body: "{alb:502}"},
	{reason: "bad_gateway", prov: "self", status: 502, weight: 4, body: "{nginx:502}"},
	{reason: "bad_gateway", prov: "cloud", status: 520, weight: 1, body: "{cloudflare:520}"},
	{reason: "bad_gateway", prov: "cloud", status: 521, weight: 1, body: "{cloudflare:521}"},
	{reason: "bad_gateway", prov: "cloud", status: 522, weight: 2, body: "{cloudflare:522}"},

	// --- server / unavailable ---
	{reason: "unavailable", prov: "huggingface", status: 503, weight: 6,
		body: `{"error":"Model {model} is currently loading","estimated_time":{secs}}`},
	{reason: "unavailable", prov: "openai", status: 503, weight: 3,
		body: `{"error":{"message":"The engine is currently overloaded, please try again later.","type":"server_error","param":null,"code":null}}`},
	{reason: "unavailable", prov: "stability", status: 503, weight: 3,
		body: `{"id":"{id32}","name":"service_unavailable","errors":["The service is temporarily unavailable due to high demand. Please try again later."]}`},
	{reason: "unavailable", prov: "replicate", status: 503, weight: 2,
		body: `{"title":"Service Unavailable","detail":"Replicate is temporarily unavailable. Check https://replicatestatus.com for updates.","status":503}`},
	{reason: "unavailable", prov: "self", status: 503, weight: 3, body: "{nginx:503}"},
	{reason: "unavailable", prov: "google", status: 503, weight: 2,
		body: `{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`},
	{reason: "unavailable", prov: "azure-openai", status: 503, weight: 2,
		body: `{"error":{"code":"ServiceUnavailable","message":"The service is temporarily unable to process your request. Please try again later."}}`},

	// --- server / gateway_timeout ---
	{reason: "gateway_timeout", prov: "cloud", status: 504, weight: 3, body: "{alb:504}"},
	{reason: "gateway_timeout", prov: "self", status: 504, weight: 4, body: "{nginx:504}"},
	{reason: "gateway_timeout", prov: "cloud", status: 524, weight: 3, body: "{cloudflare:524}"},
	{reason: "gateway_timeout", prov: "huggingface", status: 504, weight: 2,
		body: `{"error":"Model {model} time out"}`},

	// --- server / rate_limited ---
	{reason: "rate_limited", prov: "openai", status: 429, weight: 5,
		body: `{"error":{"message":"Rate limit reached for {model} in organization org-{org} on images per minute (IPM): Limit 7, Used 7, Requested 1. Please try again in {secs}s. Visit https://platform.openai.com/account/rate-limits to learn more.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`},
	{reason: "rate_limited", prov: "stability", status: 429, weight: 5,
		body: `{"id":"{id32}","name":"rate_limit_exceeded","errors":["You have exceeded the rate limit of 150 requests within a 10 second period, and have been timed out for 60 seconds."]}`},
	{reason: "rate_limited", prov: "replicate", status: 429, weight: 5,
		body: `{"title":"Request was throttled.","detail":"Request was throttled. Expected available in {n} seconds.","status":429}`},
	{reason: "rate_limited", prov: "huggingface", status: 429, weight: 4,
		body: `{"error":"Rate limit reached. You reached free usage limit (reset hourly). Please subscribe to a plan at https://huggingface.co/pricing to use the API at this rate"}`},
	{reason: "rate_limited", prov: "azure-openai", status: 429, weight: 4,
		body: `{"error":{"code":"429","message":"Requests to the Images_Generations Operation under Azure OpenAI API version 2024-02-01 have exceeded call rate limit of your current OpenAI S0 pricing tier. Please retry after {n} seconds."}}`},
	{reason: "rate_limited", prov: "google", status: 429, weight: 4,
		body: `{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}`},
	{reason: "rate_limited", lang: nodeLang, prov: "cloud", status: 429, weight: 1, errType: "AxiosError",
		err: "Request failed with status code 429"},

	// --- unknown / unmatched: client bugs no rule can know ---
	{reason: "unmatched", lang: goLang, ok: true, weight: 2, errType: "*json.UnmarshalTypeError",
		err: "json: cannot unmarshal array into Go struct field prediction.output of type string"},
	{reason: "unmatched", lang: pyLang, ok: true, weight: 2, errType: "KeyError",
		err: "'images'"},
	{reason: "unmatched", lang: nodeLang, ok: true, weight: 2, errType: "TypeError",
		err: "Cannot read properties of undefined (reading 'url')"},
}
