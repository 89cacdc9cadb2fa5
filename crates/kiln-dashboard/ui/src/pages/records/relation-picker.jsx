// The dialog that picks related records: a search over the related collection, pages, one or
// several choices (per the field's maxSelect).
import { useEffect, useState } from 'preact/hooks';
import { pb } from '../../api.js';
import { t } from '../../i18n/index.js';
import { useRequest } from '../../ui/hooks.js';
import { Modal } from '../../ui/modal.jsx';
import { Pager } from '../../ui/pager.jsx';
import { FilterInput } from '../../ui/rule-editor/index.jsx';
import { CellValue } from './values.jsx';
import { defaultSort, normalizeSearch, presentableFields, presentRecord } from './util.js';

const PER_PAGE = 10;

/**
 * Props: { open, field, collection (the related one), selected: [records], onClose,
 * onPick([records]) }.
 */
export function RelationPicker({ open, field, collection, selected, onClose, onPick }) {
  const multi = (field.maxSelect ?? 1) > 1;
  const max = field.maxSelect ?? 1;
  const [draft, setDraft] = useState('');
  const [search, setSearch] = useState('');
  const [page, setPage] = useState(1);
  const [chosen, setChosen] = useState(selected);

  useEffect(() => {
    if (open) {
      setChosen(selected);
      setDraft('');
      setSearch('');
      setPage(1);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [open]);

  const list = useRequest(
    () => (open && collection ? pb.collection(collection.id).getList(page, PER_PAGE, { filter: normalizeSearch(search, collection), sort: defaultSort(collection) }) : null),
    [open, collection?.id, page, search],
  );

  const shownFields = collection
    ? presentableFields(collection)
        .map((n) => collection.fields.find((f) => f.name === n))
        .filter(Boolean)
    : [];

  const isChosen = (r) => chosen.some((c) => c.id === r.id);
  const toggle = (r) => {
    if (!multi) return setChosen([r]);
    if (isChosen(r)) setChosen(chosen.filter((c) => c.id !== r.id));
    else if (chosen.length < max) setChosen([...chosen, r]);
  };
  const data = list.data;

  return (
    <Modal
      open={open}
      size="lg"
      class="rec-picker"
      title={t('records.picker.title', { collection: collection?.name ?? '' })}
      onClose={onClose}
      footer={
        <>
          <span class="muted grow">{multi ? t('records.picker.chosenOf', { count: chosen.length, max }) : ''}</span>
          <button type="button" class="btn" onClick={onClose}>
            {t('core.cancel')}
          </button>
          <button type="button" class="btn btn-primary" onClick={() => onPick(chosen)}>
            {t('records.picker.select')}
          </button>
        </>
      }
    >
      {!collection ? (
        <p class="alert alert-error">{t('records.picker.missing')}</p>
      ) : (
        <div class="stack">
          <form
            class="row rec-picker-search"
            role="search"
            onSubmit={(e) => {
              e.preventDefault();
              setSearch(draft);
              setPage(1);
            }}
          >
            <div class="grow">
              <FilterInput
                value={draft}
                onChange={setDraft}
                onSubmit={(v) => {
                  setSearch(v);
                  setPage(1);
                }}
                collection={collection}
                label={t('records.picker.search')}
                placeholder={t('records.searchPlaceholder')}
              />
            </div>
            <button type="submit" class="btn">
              {t('core.search')}
            </button>
          </form>
          {list.error && <p class="alert alert-error">{list.error}</p>}
          <div class="table-wrap">
            <table class="table rec-picker-table">
              <caption class="sr-only">{t('records.picker.caption', { collection: collection.name })}</caption>
              <thead>
                <tr>
                  <th scope="col" class="col-check">
                    <span class="sr-only">{t('records.picker.choose')}</span>
                  </th>
                  <th scope="col">id</th>
                  {shownFields
                    .filter((f) => f.name !== 'id')
                    .map((f) => (
                      <th scope="col" key={f.name}>
                        {f.name}
                      </th>
                    ))}
                </tr>
              </thead>
              <tbody>
                {data?.items.map((r) => {
                  const on = isChosen(r);
                  const full = multi && !on && chosen.length >= max;
                  return (
                    <tr key={r.id} class={on ? 'rec-row-chosen' : ''} onClick={() => !full && toggle(r)}>
                      <td class="col-check">
                        <input
                          type={multi ? 'checkbox' : 'radio'}
                          name="rec-picker-choice"
                          checked={on}
                          disabled={full}
                          aria-label={t('records.picker.chooseOne', { name: presentRecord(r, collection) })}
                          onClick={(e) => e.stopPropagation()}
                          onChange={() => toggle(r)}
                        />
                      </td>
                      <td class="mono small">{r.id}</td>
                      {shownFields
                        .filter((f) => f.name !== 'id')
                        .map((f) => (
                          <td key={f.name}>
                            <CellValue field={f} record={r} />
                          </td>
                        ))}
                    </tr>
                  );
                })}
              </tbody>
            </table>
            {data && !data.items.length && <p class="empty">{search ? t('records.picker.noMatch') : t('records.picker.empty')}</p>}
            {!data && list.loading && <p class="empty">{t('core.loading')}</p>}
          </div>
          {data && <Pager page={data.page} totalPages={data.totalPages} totalItems={data.totalItems} onPage={setPage} />}
        </div>
      )}
    </Modal>
  );
}
