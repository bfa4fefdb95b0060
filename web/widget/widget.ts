// /widget.js: a team puts
//   <script src="https://parley.example/widget.js" data-parley-user="u1" defer></script>
// on its own site and gets a chat button in the corner that opens Parley's chat page in a frame.
// The frame's address is taken from this script's own URL, so the page loads from the Parley
// that served the widget; that Parley must list the site in CHAT_WIDGET_ORIGINS to be framed.
// It runs on someone else's page: nothing global is defined and only its own two elements are styled.

function mount (script: HTMLScriptElement): void {
  const origin = new URL(script.src, location.href).origin
  const address = new URL('/chat', origin)
  address.searchParams.set('embed', '1')
  const user = script.dataset.parleyUser
  if (user !== undefined && user !== '') address.searchParams.set('user', user)

  const button = document.createElement('button')
  button.type = 'button'
  button.textContent = 'Chat'
  button.setAttribute('aria-label', 'Open the chat')
  button.setAttribute('aria-expanded', 'false')
  button.dataset.parleyWidget = 'button'
  Object.assign(button.style, {
    position: 'fixed',
    right: '20px',
    bottom: '20px',
    zIndex: '2147483000',
    padding: '12px 20px',
    border: '0',
    borderRadius: '24px',
    background: '#2f6f8f',
    color: '#fff',
    font: '600 15px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
    boxShadow: '0 4px 14px rgba(0, 0, 0, 0.2)',
    cursor: 'pointer'
  })

  let frame: HTMLIFrameElement | undefined
  button.addEventListener('click', () => {
    // The frame is made on first opening, so a visitor who never chats never loads the page.
    if (frame === undefined) {
      frame = document.createElement('iframe')
      frame.src = address.href
      frame.title = 'Chat with Parley'
      frame.dataset.parleyWidget = 'frame'
      Object.assign(frame.style, {
        position: 'fixed',
        right: '20px',
        bottom: '80px',
        zIndex: '2147483000',
        width: 'min(380px, calc(100vw - 40px))',
        height: 'min(560px, calc(100vh - 110px))',
        border: '1px solid #d9e2ec',
        borderRadius: '12px',
        background: '#fff',
        boxShadow: '0 8px 28px rgba(0, 0, 0, 0.22)'
      })
      document.body.append(frame)
    } else {
      // The inline style, not the hidden attribute, which the host page's CSS could override.
      frame.style.display = frame.style.display === 'none' ? 'block' : 'none'
    }
    const open = frame.style.display !== 'none'
    button.textContent = open ? 'Close chat' : 'Chat'
    button.setAttribute('aria-label', open ? 'Close the chat' : 'Open the chat')
    button.setAttribute('aria-expanded', String(open))
  })

  if (document.body !== null) document.body.append(button)
  else document.addEventListener('DOMContentLoaded', () => document.body.append(button), { once: true })
}

// currentScript is only known while this script runs, so it is read first.
const script = document.currentScript
if (script instanceof HTMLScriptElement && script.src !== '') mount(script)
