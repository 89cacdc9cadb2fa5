// PLACEHOLDER: replaced by the area's real screen.
export function CollectionEditorPage() {
  return <p class="pad">PLACEHOLDER CollectionEditorPage</p>;
}
