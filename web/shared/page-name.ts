// The name the pages show (PAGES_NAME): the server writes it into each page's application-name.
export const pageName = (): string =>
  document.querySelector<HTMLMetaElement>('meta[name="application-name"]')?.content ?? 'Parley'
