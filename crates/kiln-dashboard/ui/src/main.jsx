// The dashboard's entry point.
import { render } from 'preact';
import './styles/base.css';
import { App } from './app.jsx';
import { initLocale } from './i18n/index.js';

await initLocale();
render(<App />, document.getElementById('app'));
