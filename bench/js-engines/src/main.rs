// One call as kiln-hooks makes it: a JS function takes the request as a JSON string and returns
// the answer as a JSON string. Startup: a runtime with a 2 KB script evaluated.
use std::time::Instant;

const SCRIPT: &str = r#"
var routes = [];
function routerAdd(m, p, h) { routes.push({ m: m, p: p, h: h }); }
routerAdd("GET", "/api/hello/{name}", function (e) { return { status: 200, body: JSON.stringify({ message: "Hello " + e.params.name }) }; });
function dispatch(i, raw) { var req = JSON.parse(raw); return JSON.stringify(routes[i].h(req)); }
"#;
const REQ: &str = r#"{"method":"GET","path":"/api/hello/world","params":{"name":"world"},"headers":{"accept":["*/*"],"user-agent":["bench"]},"query":{},"body":null,"auth":null,"ip":"127.0.0.1"}"#;
const N: usize = 100_000;

fn quickjs() {
    let t0 = Instant::now();
    let rt = rquickjs::Runtime::new().unwrap();
    let ctx = rquickjs::Context::full(&rt).unwrap();
    ctx.with(|ctx| ctx.eval::<(), _>(SCRIPT).unwrap());
    let start = t0.elapsed();
    let t1 = Instant::now();
    let mut len = 0;
    ctx.with(|ctx| {
        let f: rquickjs::Function = ctx.globals().get("dispatch").unwrap();
        for _ in 0..N {
            let out: String = f.call((0, REQ)).unwrap();
            len += out.len();
        }
    });
    println!("quickjs: start {:?}, {:.2} µs/call ({len})", start, t1.elapsed().as_secs_f64() * 1e6 / N as f64);
}

fn boa() {
    use boa_engine::{js_string, Context, JsValue, Source};
    let t0 = Instant::now();
    let mut ctx = Context::default();
    ctx.eval(Source::from_bytes(SCRIPT)).unwrap();
    let start = t0.elapsed();
    let f = ctx.global_object().get(js_string!("dispatch"), &mut ctx).unwrap();
    let f = f.as_callable().unwrap().clone();
    let t1 = Instant::now();
    let mut len = 0;
    for _ in 0..N {
        let out = f.call(&JsValue::undefined(), &[JsValue::from(0), JsValue::from(js_string!(REQ))], &mut ctx).unwrap();
        len += out.as_string().unwrap().len();
    }
    println!("boa:     start {:?}, {:.2} µs/call ({len})", start, t1.elapsed().as_secs_f64() * 1e6 / N as f64);
}

fn main() {
    quickjs();
    boa();
}
