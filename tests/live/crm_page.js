// A page of a live CRM as its logged-in admin sees it: saves a screenshot and prints the page's visible text.
// Usage: node crm_page.js espocrm|vtiger BASE_URL USER PASSWORD ROUTE OUT.png  (puppeteer-core of live-crms.sh)
//   EspoCRM ROUTE: a client route such as Campaign/view/<id>; vtiger ROUTE: a query such as
//   module=Contacts&view=Detail&record=117
const puppeteer = require('puppeteer-core');
(async () => {
  const [crm, base, user, pass, route, out] = process.argv.slice(2);
  const browser = await puppeteer.launch({executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-proxy-server']});
  const page = await browser.newPage();
  await page.setViewport({width: 1400, height: crm === 'espocrm' ? 1400 : 1000});
  await page.goto(base + (crm === 'espocrm' ? '/' : '/index.php'), {waitUntil: 'networkidle0', timeout: 60000});
  await page.waitForSelector('input[name=username]', {timeout: 30000});
  await page.type('input[name=username]', user);
  await page.type('input[name=password]', pass);
  if (crm === 'espocrm') {
    await page.click('#btn-login');
    await page.waitForSelector('#navbar', {timeout: 30000});
    await page.goto(base + '/#' + route, {waitUntil: 'networkidle0', timeout: 60000});
    await page.waitForSelector('.detail', {timeout: 30000});
  } else {
    await Promise.all([page.waitForNavigation({waitUntil: 'networkidle0', timeout: 60000}),
                       page.click('button[type=submit]')]);
    await page.goto(base + '/index.php?' + route, {waitUntil: 'networkidle0', timeout: 60000});
  }
  await new Promise(r => setTimeout(r, 1500));
  await page.screenshot({path: out, fullPage: crm === 'espocrm'});
  process.stdout.write(await page.evaluate(() => document.body.innerText));
  await browser.close();
})().catch(e => { console.error(e); process.exit(1); });
