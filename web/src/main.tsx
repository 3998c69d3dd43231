import './zod-config.ts';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createApiClient } from './api.ts';
import { startUp } from './api-key.ts';
import { App } from './App.tsx';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
// Once per page load, outside React (whose development mode runs effects twice): the code works only once.
const { key, code } = startUp();
const signingIn = code ? createApiClient({ apiKey: '' }).signIn(code) : undefined;
createRoot(root).render(
  <StrictMode>
    <App initialKey={key} signingIn={signingIn} />
  </StrictMode>,
);
