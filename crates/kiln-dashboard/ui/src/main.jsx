// The dashboard's entry point.
import { render } from 'preact';
import './styles/base.css';
import { App } from './app.jsx';

render(<App />, document.getElementById('app'));
