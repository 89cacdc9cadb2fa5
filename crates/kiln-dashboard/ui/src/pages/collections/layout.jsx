// The collections area: the list of collections on the left (with a search, the system
// collections apart) and the chosen collection's screen beside it.
import { useState } from 'preact/hooks';
import { t } from '../../i18n/index.js';
import { useCollections } from '../../store/collections.js';
import { Icon } from '../../ui/icon.jsx';

export function CollectionsLayout({ active, children }) {
  const { list, error } = useCollections();
  const [search, setSearch] = useState('');
  const [showSystem, setShowSystem] = useState(() => !!list.find((c) => c.name === active)?.system);
  const q = search.trim().toLowerCase();
  const shown = list.filter((c) => !q || c.name.toLowerCase().includes(q));
  const user = shown.filter((c) => !c.system);
  const system = shown.filter((c) => c.system);
  const item = (c) => (
    <li key={c.id}>
      <a href={`#/collections/${encodeURIComponent(c.name)}`} class={`side-link ${c.name === active ? 'active' : ''}`} aria-current={c.name === active ? 'page' : undefined}>
        <Icon name={c.type === 'auth' ? 'user' : c.type === 'view' ? 'eye' : 'db'} size={16} />
        <span class="ellipsis">{c.name}</span>
      </a>
    </li>
  );
  return (
    <div class="with-side">
      <aside class="side" aria-label={t('collections.sidebar')}>
        <div class="side-search">
          <label class="sr-only" for="collection-search">
            {t('collections.search')}
          </label>
          <input id="collection-search" class="input input-sm" type="search" placeholder={t('collections.search')} value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        </div>
        {error && <p class="error small pad-x">{error}</p>}
        <ul class="side-list">{user.map(item)}</ul>
        {!user.length && !q && <p class="muted small pad-x">{t('collections.noneYet')}</p>}
        <button type="button" class="side-toggle" aria-expanded={showSystem || !!q ? 'true' : 'false'} onClick={() => setShowSystem(!showSystem)}>
          <Icon name={showSystem || q ? 'down' : 'chevron'} size={14} />
          {t('collections.system')}
        </button>
        {(showSystem || !!q) && <ul class="side-list">{system.map(item)}</ul>}
        <div class="side-foot">
          <a href="#/collections/new" class="btn btn-block">
            <Icon name="plus" size={16} />
            {t('collections.new')}
          </a>
        </div>
      </aside>
      <div class="side-content">{children}</div>
    </div>
  );
}
