// An EspoCRM page as a logged-in user sees it: saves a screenshot and prints the page's visible text.
// Usage: node espo_page.js BASE_URL USER PASSWORD ROUTE OUT.png  (puppeteer-core from live-crms.sh's tools)
const puppeteer = require('puppeteer-core');
(async () => {
  const [base, user, pass, route, out] = process.argv.slice(2);
  const browser = await puppeteer.launch({executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-proxy-server']});
  const page = await browser.newPage();
  await page.setViewport({width: 1400, height: 1400});
  await page.goto(base + '/', {waitUntil: 'networkidle0', timeout: 60000});
  await page.waitForSelector('input[name=username]', {timeout: 30000});
  await page.type('input[name=username]', user);
  await page.type('input[name=password]', pass);
  await page.click('#btn-login');
  await page.waitForSelector('#navbar', {timeout: 30000});
  await page.goto(base + '/#' + route, {waitUntil: 'networkidle0', timeout: 60000});
  await page.waitForSelector('.detail', {timeout: 30000});
  await new Promise(r => setTimeout(r, 1500));
  await page.screenshot({path: out, fullPage: true});
  process.stdout.write(await page.evaluate(() => document.body.innerText));
  await browser.close();
})().catch(e => { console.error(e); process.exit(1); });
