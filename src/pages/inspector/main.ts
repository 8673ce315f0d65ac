/**
 * The inspector page's entry point, bundled by esbuild into `/inspector/inspector.js`.
 */
import { InspectorApp } from './app.js';
import { updateExportLink, wireControls } from './controls.js';

const app = new InspectorApp();
window.__inspector = { metrics: app.metrics, app, tree: app.tree };
app.metrics.startedAt = performance.now();
wireControls(app);
app.travel.unload();
updateExportLink(app);
app.refresh();
